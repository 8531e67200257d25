// Command-line flags of `npm run bench`. Sizes are event counts; every size gets its own database and
// topic, and all sizes share one time span so that rollup bucket counts match.
import { assertSupportedTimeZone } from '../shared/aggregate/index.ts';

export const STEPS = ['ingest', 'copy', 'hourly', 'rollups', 'reports', 'query'] as const;
export type Step = (typeof STEPS)[number];

export interface BenchArgs {
  /** Event counts, ascending (default 1M and 10M; --quick: 100k). */
  sizes: number[];
  /** Length of the generated stream in days, ending at the last UTC midnight. */
  days: number;
  partitions: number;
  seed: number;
  /** Measurements to run (default all). */
  steps: Step[];
  /** Rewrite the README's performance section from this run. */
  readme: boolean;
  /** Keep the databases and topics afterwards (for EXPLAIN or re-running one step by hand). */
  keep: boolean;
  /** Also print EXPLAIN (ANALYZE, BUFFERS) of the hourly SQL and the plain GROUP BY. */
  explain: boolean;
  quick: boolean;
  /** Run the ingest child through tsx instead of as an esbuild bundle (as deployed). */
  childTsx: boolean;
  /** Rows per archived day for the retention benchmark, which then runs instead (no Kafka needed). */
  retention: number[] | undefined;
  /** Peers run on the same events beside ours (`--peer pandas`). */
  peers: Peer[];
  /** Ingest process counts of the scale-out measurement (`--scale-out 1,2,4`); empty = not measured. */
  scaleOut: number[];
  /** Also ingest each size with this commit's ingest child (into its own database), before ours. */
  ingestBefore: string | undefined;
  /** time.zone of the hourly and rollup runs (`--time-zone Asia/Kolkata`: the cost of quarter hours). */
  timeZone: string;
}

export const PEERS = ['pandas'] as const;
export type Peer = (typeof PEERS)[number];

const USAGE = `usage: npm run bench -- [--events 1000000,10000000] [--quick] [--days 14] [--partitions 4]
       [--seed 42] [--steps ingest,copy,hourly,rollups,reports,query] [--peer pandas] [--scale-out 1,2,4] [--readme] [--keep]
       [--explain] [--child-tsx] [--ingest-before <git ref>] [--time-zone UTC]
       npm run bench -- --retention 1M,10M [--seed 42] [--readme] [--keep]
The ingest always runs (it loads the data the other steps measure); reports needs the aggregates, so the\nhourly aggregation and the rollups run (unmeasured if not asked for) before it; query needs the hourly aggregation.
--ingest-before main: the same topic is also ingested by main's ingest child (bundled from git, into its own
database) just before ours, and both are judged against the one COPY — a change's cost, measured in one run.
--peer pandas: pandas (a venv under ~/.cache/hxp-batch) computes the same hourly series from the same events as\nNDJSON after the hourly aggregation, which it is checked against; its time and peak RSS stand beside ours.
--scale-out 1,2,4: the events again on an 8-partition topic, drained by 1, 2, 4 ingest processes of one group.
--time-zone Asia/Kolkata: days, weeks and months cut in that zone (time.zone); in a zone whose days start inside a
UTC hour the hourly run also stores those hours' quarter hours, and the day rollups add them.
--keep: each size's database and topic stay for a look afterwards; a run six hours later deletes the topic (as it
does any benchmark topic whose run began over six hours before: what a stopped run left).
--retention runs the retention benchmark instead: one day of that many raw events archived against
COPY (SELECT …) TO STDOUT (PostgreSQL only).`;

function fail(message: string): never {
  throw new Error(`${message}\n${USAGE}`);
}

/** "1000000", "1e6", "1M", "100k" → a positive integer. */
export function parseCount(text: string): number {
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)([kKmM]?)$/.exec(text.trim());
  const value = m
    ? Number(m[1]) * (m[2]?.toLowerCase() === 'k' ? 1e3 : m[2]?.toLowerCase() === 'm' ? 1e6 : 1)
    : NaN;
  if (!Number.isInteger(value) || value <= 0)
    fail(`--events: "${text}" is not a positive event count (e.g. 1000000, 1M, 100k)`);
  return value;
}

function positiveInt(flag: string, text: string | undefined, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0 || value > max)
    fail(`${flag}: "${text}" is not an integer in 1..${max}`);
  return value;
}

function timeZoneArg(text: string): string {
  try {
    assertSupportedTimeZone(text, new Date(), new Date());
  } catch {
    fail(`--time-zone: "${text}" is not an IANA time zone known to Intl (e.g. UTC, Asia/Kolkata)`);
  }
  return text;
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = {
    sizes: [],
    days: 14,
    partitions: 4,
    seed: 42,
    steps: [...STEPS],
    readme: false,
    keep: false,
    explain: false,
    quick: false,
    childTsx: false,
    retention: undefined,
    peers: [],
    scaleOut: [],
    ingestBefore: undefined,
    timeZone: 'UTC',
  };
  let sizes: number[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes('=') ? (arg.split('=', 2) as [string, string]) : [arg, undefined];
    const value = (): string => inline ?? argv[++i] ?? fail(`${flag} needs a value`);
    switch (flag) {
      case '--events':
        sizes = value().split(',').map(parseCount);
        break;
      case '--quick':
        args.quick = true;
        break;
      case '--days':
        args.days = positiveInt(flag, value(), 28);
        break;
      case '--partitions':
        args.partitions = positiveInt(flag, value(), 64);
        break;
      case '--seed':
        args.seed = positiveInt(flag, value(), 2 ** 31);
        break;
      case '--steps': {
        const steps = value().split(',');
        for (const s of steps) {
          if (!(STEPS as readonly string[]).includes(s))
            fail(`--steps: "${s}" is not one of ${STEPS.join(', ')}`);
        }
        args.steps = steps as Step[];
        break;
      }
      case '--readme':
        args.readme = true;
        break;
      case '--keep':
        args.keep = true;
        break;
      case '--peer': {
        const peer = value();
        if (!(PEERS as readonly string[]).includes(peer))
          fail(`--peer: "${peer}" is not one of ${PEERS.join(', ')}`);
        if (!args.peers.includes(peer as Peer)) args.peers.push(peer as Peer);
        break;
      }
      case '--scale-out':
        args.scaleOut = [
          ...new Set(
            value()
              .split(',')
              .map((n) => positiveInt(flag, n, 8)),
          ),
        ].sort((a, b) => a - b);
        break;
      case '--child-tsx':
        args.childTsx = true;
        break;
      case '--ingest-before':
        args.ingestBefore = value();
        break;
      case '--explain':
        args.explain = true;
        break;
      case '--time-zone':
        args.timeZone = timeZoneArg(value());
        break;
      case '--retention':
        args.retention = [...new Set(value().split(',').map(parseCount))].sort((a, b) => a - b);
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        fail(`unknown flag "${arg}"`);
    }
  }
  args.sizes = [...new Set(sizes ?? (args.quick ? [100_000] : [1_000_000, 10_000_000]))].sort(
    (a, b) => a - b,
  );
  return args;
}
