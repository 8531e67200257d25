import test from 'ava';
import { apiRouteFor } from '../../runtime/api-server.ts';

test('an original API path goes to the function owning its prefix, sub-paths included', (t) => {
  t.is(apiRouteFor('/health'), 'status');
  t.is(apiRouteFor('/aggregation/status'), 'status');
  t.is(apiRouteFor('/dead-letters'), 'status');
  t.is(apiRouteFor('/'), 'status', 'the web dashboard');
  t.is(apiRouteFor('/ui/vega.min.js'), 'status');
  t.is(apiRouteFor('/dead-letters/replay'), 'status');
  t.is(apiRouteFor('/reports/generate'), 'generate-report');
  t.is(apiRouteFor('/reports/42/download'), 'generate-report');
  t.is(apiRouteFor('/capacity/analysis'), 'analyze-capacity');
  t.is(apiRouteFor('/retention/cleanup'), 'retention-sweep');
});

test('a prefix matches whole path segments only', (t) => {
  t.is(apiRouteFor('/reportsx'), undefined);
  t.is(apiRouteFor('/healthz'), undefined);
  t.is(apiRouteFor('/nothing'), undefined);
});
