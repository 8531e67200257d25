#!/usr/bin/env node
// Readiness probe for the local S3 gateway (versitygw): a real, signed bucket listing; then makes
// sure the project's bucket exists. Exit 0 when both worked within the deadline, 1 otherwise.
//
//   node scripts/wait-s3.mjs [--endpoint http://127.0.0.1:9000] [--bucket hxp-batch] [--timeout 60]
// Credentials and region come from TEST_S3_ACCESS_KEY / TEST_S3_SECRET_KEY / TEST_S3_REGION.
import { parseArgs } from 'node:util';
import { CreateBucketCommand, HeadBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';

const { values } = parseArgs({
  options: {
    endpoint: { type: 'string', default: process.env.TEST_S3_ENDPOINT ?? 'http://127.0.0.1:9000' },
    bucket: { type: 'string', default: process.env.TEST_S3_BUCKET ?? 'hxp-batch' },
    timeout: { type: 'string', default: '60' },
  },
});

const deadline = Date.now() + Number(values.timeout) * 1000;
const log = (msg) => console.log(`[wait-s3] ${new Date().toISOString()} ${msg}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const s3 = new S3Client({
  endpoint: values.endpoint,
  region: process.env.TEST_S3_REGION ?? 'us-east-1',
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
  credentials: {
    accessKeyId: process.env.TEST_S3_ACCESS_KEY ?? 'hxpaccess',
    secretAccessKey: process.env.TEST_S3_SECRET_KEY ?? 'hxpsecret123',
  },
  maxAttempts: 1,
});

async function ensureBucket(bucket) {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return 'exists';
  } catch (err) {
    const status = err?.$metadata?.httpStatusCode;
    if (status !== 404 && err?.name !== 'NotFound') throw err;
  }
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    return 'created';
  } catch (err) {
    if (err?.name === 'BucketAlreadyOwnedByYou' || err?.name === 'BucketAlreadyExists') return 'exists';
    throw err;
  }
}

let n = 0;
for (;;) {
  n += 1;
  try {
    const { Buckets = [] } = await s3.send(new ListBucketsCommand({}));
    log(`attempt ${n}: listed ${Buckets.length} bucket(s) at ${values.endpoint}`);
    const state = await ensureBucket(values.bucket);
    log(`bucket ${values.bucket} ${state}`);
    process.exit(0);
  } catch (err) {
    log(`attempt ${n} failed: ${err?.name ?? ''} ${err?.message ?? err}`);
    if (Date.now() >= deadline) {
      log(`S3 at ${values.endpoint} did not answer a signed bucket listing in time`);
      process.exit(1);
    }
    await sleep(1000);
  }
}
