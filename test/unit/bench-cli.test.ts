import test from 'ava';
import { parseArgs } from '../../bench/cli.ts';

test('--time-zone sets the zone of the hourly and rollup runs (default UTC); an unknown zone is refused', (t) => {
  t.is(parseArgs(['--quick']).timeZone, 'UTC');
  t.is(parseArgs(['--quick', '--time-zone', 'Asia/Kolkata']).timeZone, 'Asia/Kolkata');
  t.is(parseArgs(['--time-zone=Australia/Adelaide']).timeZone, 'Australia/Adelaide');
  t.throws(() => parseArgs(['--time-zone', 'Mars/Olympus_Mons']), {
    message: /--time-zone: "Mars\/Olympus_Mons" is not an IANA time zone known to Intl/,
  });
});
