// The optional health probes against the real services: Kafka (admin describeCluster) and S3 (HeadBucket).
import { checkHealth, kafkaProbe, s3Probe } from '../../shared/status/index.ts';
import { freePort } from '../../runtime/free-port.ts';
import { requireService, serviceTest } from '../helpers/services.ts';

serviceTest('kafka')(
  'the Kafka probe is healthy on the broker and names Kafka when it is unreachable',
  async (t) => {
    const ok = await checkHealth({ kafka: kafkaProbe(requireService('kafka')!.brokers) });
    t.is(ok.status, 200);
    t.is(ok.body.checks.kafka?.status, 'healthy');
    const down = await checkHealth(
      { kafka: kafkaProbe([`127.0.0.1:${await freePort()}`]) },
      { timeoutMs: 5_000 },
    );
    t.is(down.status, 503);
    t.deepEqual(down.body.failed, ['kafka']);
    t.is(down.body.checks.kafka?.error?.code, 'KAFKA_UNAVAILABLE');
  },
);

serviceTest('s3')('the S3 probe is healthy on the bucket and unhealthy on a missing one', async (t) => {
  const s3 = requireService('s3')!;
  const base = {
    endpoint: s3.endpoint,
    region: s3.region,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
  };
  const ok = await checkHealth({ s3: s3Probe({ ...base, bucket: s3.bucket }) });
  t.is(ok.status, 200, JSON.stringify(ok.body));
  const missing = await checkHealth({ s3: s3Probe({ ...base, bucket: `hxp-missing-${Date.now()}` }) });
  t.is(missing.status, 503);
  t.like(missing.body, {
    status: 'unhealthy',
    failed: ['s3'],
    checks: { s3: { status: 'unhealthy', error: { code: 'S3_UNAVAILABLE' } } },
  });
});
