// Where the server reaches each AWS service, decided once from the options and the environment.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { awsServices, parseOptions } from '../../src/shared/config.js';

const TEST_KEYS = { accessKeyId: 'test', secretAccessKey: 'test' };

describe('AWS service endpoints', () => {
  it('uses AWS itself and the SDK credential chain when no endpoint is set', () => {
    const aws = awsServices(parseOptions([], {}), {});
    for (const service of Object.values(aws)) assert.deepEqual(service, {});
  });

  it('sends every service to --aws-endpoint, a per-service option winning, with placeholder keys when the environment has none', () => {
    const options = parseOptions(['--aws-endpoint', 'http://moto:5000', '--sqs-endpoint', 'http://sqs:1'], {});
    const aws = awsServices(options, {});
    assert.deepEqual(aws.sqs, { endpoint: 'http://sqs:1', credentials: TEST_KEYS });
    for (const s of ['s3', 'sns', 'events', 'kinesis', 'dynamodbstreams'] as const) assert.deepEqual(aws[s], { endpoint: 'http://moto:5000', credentials: TEST_KEYS }, s);
  });

  it('leaves keys to the SDK when the environment has some', () => {
    const aws = awsServices(parseOptions(['--kinesis-endpoint', 'http://k:1'], {}), { AWS_ACCESS_KEY_ID: 'AKIA...' });
    assert.deepEqual(aws.kinesis, { endpoint: 'http://k:1' });
    assert.deepEqual(aws.sqs, {});
  });

  it('knows no DynamoDB endpoint option (nothing calls DynamoDB itself)', () => {
    assert.throws(() => parseOptions(['--dynamodb-endpoint', 'http://d:1'], {}), /unknown option --dynamodb-endpoint/);
  });
});
