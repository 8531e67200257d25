// templates/node20-ts/main.ts readSettings: what SIGTERM waits for. Under of-watchdog (its image sets
// fprocess and mode=http) the server keeps listening for the watchdog's healthcheck_interval, since the
// watchdog still routes requests for that long; the local runtime and a plain process drain at once.
import test from 'ava';
import { readSettings, watchdogGraceMs } from '../../templates/node20-ts/main.ts';

// The Dockerfile's ENV, as of-watchdog passes it on to its fprocess.
const IMAGE_ENV = {
  fprocess: 'node index.js',
  mode: 'http',
  upstream_url: 'http://127.0.0.1:3000',
  write_timeout: '65s',
};

test('under of-watchdog the grace is its healthcheck_interval, parsed as the watchdog parses it', (t) => {
  t.is(watchdogGraceMs({ ...IMAGE_ENV, healthcheck_interval: '10s' }), 10_000);
  t.is(watchdogGraceMs({ ...IMAGE_ENV, healthcheck_interval: '7' }), 7_000, 'a bare number is seconds');
  t.is(watchdogGraceMs({ ...IMAGE_ENV, healthcheck_interval: '1m30s' }), 90_000);
  t.is(watchdogGraceMs({ ...IMAGE_ENV, healthcheck_interval: '0s' }), 0);
});

test('without healthcheck_interval (or an unreadable one) the grace is write_timeout, else 30 s', (t) => {
  t.is(watchdogGraceMs(IMAGE_ENV), 65_000);
  t.is(watchdogGraceMs({ ...IMAGE_ENV, healthcheck_interval: 'soon' }), 65_000);
  t.is(watchdogGraceMs({ fprocess: 'node index.js', mode: 'http' }), 30_000);
  t.is(watchdogGraceMs({ function_process: 'node index.js', mode: 'http' }), 30_000);
});

test('no grace outside the watchdog’s http mode: the local runtime and a plain process drain at once', (t) => {
  // The local runtime passes stack.yml's environment (write_timeout included), but no fprocess or mode.
  t.is(watchdogGraceMs({ write_timeout: '65s', HXP_FUNCTION_NAME: 'ingest', PORT: '0' }), 0);
  t.is(watchdogGraceMs({}), 0);
  t.is(watchdogGraceMs({ ...IMAGE_ENV, mode: 'streaming' }), 0, 'only http mode keeps a server running');
  t.is(readSettings({ PORT: '0' }).shutdownGraceMs, 0);
  t.is(readSettings({ ...IMAGE_ENV, healthcheck_interval: '5s' }).shutdownGraceMs, 5_000);
});
