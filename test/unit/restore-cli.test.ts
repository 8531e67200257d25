// `npm run restore -- --help`: the options described, not only the usage line. --help exits before any
// configuration or database is opened, so this runs without services.
import { spawnSync } from 'node:child_process';
import test from 'ava';

test('restore --help describes every option', (t) => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/restore.ts', '--help'], {
    cwd: new URL('../..', import.meta.url),
    env: { PATH: process.env.PATH },
    encoding: 'utf8',
  });
  t.is(result.status, 0, result.stderr);
  t.regex(result.stdout, /^usage: npm run restore -- --from YYYY-MM-DD/);
  for (const option of ['--from', '--to', '--recompute', '--json', '--data-dir', '--help']) {
    t.regex(result.stdout, new RegExp(`\\n  ${option}\\b.*\\S`), `${option} is described on its own line`);
  }
});
