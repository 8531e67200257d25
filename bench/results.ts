// The shape of one benchmark run, as written to bench/results/latest.json.
import type {
  AggregationMeasurement,
  BaselineMeasurement,
  RollupLevel,
  RollupMeasurement,
} from './aggregate.ts';
import type { CopyMeasurement } from './copy-ceiling.ts';
import type { ExplainOutput } from './explain.ts';
import type { IngestMeasurement } from './ingest.ts';
import type { Machine } from './machine.ts';
import type { QueryMeasurement } from './query.ts';
import type { ProduceResult } from './produce.ts';
import type { StatementStat } from './statement-profile.ts';
import type { ReportMeasurement } from './reports.ts';
import type { PandasMeasurement } from './pandas-peer.ts';
import type { ScaleOutMeasurement } from './scale-out.ts';

export interface SizeResult {
  /** Requested event count. */
  requested: number;
  /** Events actually generated and produced (the calibrated stream is within a fraction of a percent). */
  events: number;
  span: { start: string; end: string; days: number };
  database: string;
  topic: string;
  partitions: number;
  produce?: ProduceResult;
  ingest?: IngestMeasurement;
  /** With --ingest-before: the same topic ingested by that commit's child, into its own database, first. */
  ingestBefore?: IngestMeasurement & { ref: string; commit: string };
  copy?: CopyMeasurement;
  baseline?: BaselineMeasurement;
  hourly?: AggregationMeasurement;
  rollups?: Record<RollupLevel, RollupMeasurement>;
  /** GET /aggregates (a month of hourly rows of one metric per model) against the same SELECT in psql. */
  query?: QueryMeasurement;
  /** monthly_summary in every format, from this size's aggregates. */
  reports?: ReportMeasurement;
  /** --peer pandas: the same hourly series by pandas from the same events as NDJSON, checked against ours. */
  pandas?: PandasMeasurement;
  /** --peer pandas on a size whose estimated pandas peak would not fit in this machine's memory: why. */
  pandasSkipped?: string;
  /** --scale-out: ingest by 1, 2, 4 … processes of one group on an 8-partition topic. */
  scaleOut?: ScaleOutMeasurement;
  explain?: ExplainOutput;
  /** With --explain: the hourly run's statements by total time. */
  hourlyProfile?: StatementStat[];
  /** Raw rows and hourly state rows, for scale. */
  rawRows?: number;
  totalMs: number;
}

export interface Check {
  name: string;
  /** The size the figure is for (the larger one for rollup ratios). */
  events: number;
  ours: string;
  reference: string;
  /** null when the check has no ratio (peak RSS). */
  ratio: number | null;
  target: string;
  /** null when it could not be judged (a step did not run). */
  pass: boolean | null;
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  /** false while the run is still going (or was stopped): the figures of the steps finished so far. */
  complete: boolean;
  command: string;
  machine: Machine;
  /** How the ingesting process ran: 'esbuild bundle, plain node' (as deployed) or 'tsx'. */
  ingestChild: string;
  sizes: SizeResult[];
  checks: Check[];
}
