// templates/node20-ts/Dockerfile read as stages: the build stage must produce the bundle for the platform the
// image ships on. It used to run on BUILDPLATFORM, so a `--platforms linux/arm64` image carried the build
// machine's x64 resvg binding and generate-report could not start.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { ROOT } from '../../scripts/build.ts';

interface Stage {
  name: string;
  platform: string | undefined;
  image: string;
  /** Instructions after FROM, continuation lines joined. */
  lines: string[];
}

function stages(text: string): Stage[] {
  const joined = text.replace(/\\\n/g, ' ');
  const result: Stage[] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const from = /^FROM\s+(?:--platform=(\S+)\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from) {
      result.push({ platform: from[1], image: from[2]!, name: from[3] ?? '', lines: [] });
    } else {
      result.at(-1)?.lines.push(line);
    }
  }
  return result;
}

const dockerfile = readFileSync(join(ROOT, 'templates/node20-ts/Dockerfile'), 'utf8');
const byName = new Map(stages(dockerfile).map((s) => [s.name, s]));

test('the build stage runs on the platform the image ships on, not the build machine’s', (t) => {
  const build = byName.get('build');
  const ship = byName.get('ship');
  t.truthy(build && ship);
  t.is(build!.platform, ship!.platform, 'build and ship stages share one platform');
  t.notRegex(build!.platform ?? '', /BUILDPLATFORM/);
});

test('the build stage bundles for the target’s os/arch on musl, so a missing binding fails the build', (t) => {
  const build = byName.get('build')!;
  const args = build.lines.filter((l) => /^ARG\s/.test(l)).join(' ');
  t.regex(args, /\bTARGETOS\b/);
  t.regex(args, /\bTARGETARCH\b/);
  const bundle = build.lines.find((l) => l.includes('bundle.ts'));
  t.truthy(bundle, 'the build stage runs bundle.ts');
  t.regex(bundle!, /--target[= ]\$\{TARGETOS(:-linux)?\}\/\$\{TARGETARCH(:-amd64)?\}\/musl\b/);
  t.regex(byName.get('ship')!.image, /alpine/, 'musl: the image is alpine');
});
