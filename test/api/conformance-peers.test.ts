// Answers compared with responses recorded from AWS, for behaviour that involves an AWS peer (SQS and
// EC2 on a real moto_server): asynchronous request ids, destination and dead-letter messages, event
// source mappings.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateEventSourceMappingCommand, CreateFunctionCommand, GetEventSourceMappingCommand, GetFunctionConfigurationCommand, InvokeCommand,
  UpdateFunctionConfigurationCommand, ListTagsCommand, TagResourceCommand, UntagResourceCommand,
  PutFunctionEventInvokeConfigCommand, UpdateEventSourceMappingCommand, type LambdaClient,
} from '@aws-sdk/client-lambda';
import { ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { expectAwsError } from '../helpers/aws-error.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { nodeHandlerZip, ROLE } from '../helpers/zip.js';
import { awsOptions, createQueue, startMoto, type Moto } from '../helpers/moto.js';

let moto: Moto;
let t: TestServer;
let lambda: LambdaClient;
let sqs: SQSClient;

/** One message with its system attributes, or a failure naming the queue after `timeoutMs`. */
async function receiveOne(url: string, timeoutMs = 30_000): Promise<Message> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await sqs.send(new ReceiveMessageCommand({
      QueueUrl: url, MaxNumberOfMessages: 1, WaitTimeSeconds: 1, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['AWSTraceHeader'],
    }));
    if (r.Messages?.[0]) return r.Messages[0];
  }
  assert.fail(`no message arrived at ${url} within ${timeoutMs} ms`);
}

async function create(name: string, source: string, extra: Record<string, unknown> = {}) {
  return lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: await nodeHandlerZip(source) }, ...extra }));
}

const TRACE_HEADER = /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}(;|$)/;

before(async () => {
  moto = await startMoto();
  t = await startTestServer({ awsEndpoint: moto.url, asyncRetryScale: 0 });
  lambda = t.client;
  sqs = new SQSClient(awsOptions(moto.url));
});
after(async () => {
  sqs.destroy();
  await t.close();
  await moto.stop();
});

describe('asynchronous invocations', () => {
  it("the 202's request id is the event's: in the function and in the destination record; the message carries AWSTraceHeader", async () => {
    const q = await createQueue(sqs, 'conf-success');
    await create('conf-async', 'exports.handler = async (event, context) => ({ rid: context.awsRequestId });');
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'conf-async', DestinationConfig: { OnSuccess: { Destination: q.arn } } }));
    const accepted = await lambda.send(new InvokeCommand({ FunctionName: 'conf-async', InvocationType: 'Event', Payload: Buffer.from('{"n":1}') }));
    assert.equal(accepted.StatusCode, 202);
    const id = accepted.$metadata.requestId;
    const msg = await receiveOne(q.url);
    const record = JSON.parse(msg.Body!) as { requestContext: { requestId: string }; responsePayload: { rid: string } };
    assert.equal(record.requestContext.requestId, id);
    assert.equal(record.responsePayload.rid, id);
    assert.match(msg.Attributes?.AWSTraceHeader ?? '', TRACE_HEADER);
  });

  it('dead-letter messages carry AWSTraceHeader and the request id', async () => {
    const q = await createQueue(sqs, 'conf-dlq');
    await create('conf-dead', 'exports.handler = async () => { throw new Error("no"); };', { DeadLetterConfig: { TargetArn: q.arn } });
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'conf-dead', MaximumRetryAttempts: 0 }));
    const accepted = await lambda.send(new InvokeCommand({ FunctionName: 'conf-dead', InvocationType: 'Event', Payload: Buffer.from('{"n":2}') }));
    const msg = await receiveOne(q.url);
    assert.equal(msg.Body, '{"n":2}');
    assert.equal(msg.MessageAttributes?.['RequestID']?.StringValue, accepted.$metadata.requestId);
    assert.match(msg.Attributes?.AWSTraceHeader ?? '', TRACE_HEADER);
  });
});

describe('VpcConfig through EC2', () => {
  it('VpcId comes from the subnets; unknown subnets and security groups are refused with EC2\'s error', async () => {
    const ec2 = new EC2Client(awsOptions(moto.url));
    try {
      const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.10.0.0/16' }))).Vpc!.VpcId!;
      const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.10.1.0/24' }))).Subnet!.SubnetId!;
      const group = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpc, GroupName: 'conf-sg', Description: 'conformance' }))).GroupId!;
      await create('conf-vpc', 'exports.handler = async () => 1;', { VpcConfig: { SubnetIds: [subnet], SecurityGroupIds: [group] } });
      const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'conf-vpc' }));
      assert.deepEqual(config.VpcConfig, { SubnetIds: [subnet], SecurityGroupIds: [group], Ipv6AllowedForDualStack: false, VpcId: vpc });
      const unknownSubnet = 'subnet-0123456789abcdef0';
      await expectAwsError(create('conf-vpc-2', 'exports.handler = async () => 1;', { VpcConfig: { SubnetIds: [unknownSubnet], SecurityGroupIds: [group] } }), {
        name: 'InvalidParameterValueException', status: 400, type: 'User',
        message: `Error occurred while DescribeSubnets. EC2 Error Code: InvalidSubnetID.NotFound. EC2 Error Message: The subnet ID '${unknownSubnet}' does not exist`,
      });
      const unknownGroup = 'sg-0123456789abcdef0';
      await expectAwsError(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'conf-vpc', VpcConfig: { SubnetIds: [subnet], SecurityGroupIds: [unknownGroup] } })), {
        name: 'InvalidParameterValueException', status: 400, type: 'User',
        // Lambda passes EC2's message through; moto renders the id as a Python set where EC2 quotes it.
        message: new RegExp(`^Error occurred while DescribeSecurityGroups\\. EC2 Error Code: InvalidGroup\\.NotFound\\. EC2 Error Message: The security group '(\\{')?${unknownGroup}('\\})?' does not exist$`),
      });
      const detached = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'conf-vpc', VpcConfig: { SubnetIds: [], SecurityGroupIds: [] } }));
      assert.equal(detached.VpcConfig?.VpcId, '');
    } finally {
      ec2.destroy();
    }
  });
});

describe('event source mappings', () => {
  it('are taggable: Tags at create, TagResource, UntagResource, ListTags; a missing one is named', async () => {
    const q = await createQueue(sqs, 'conf-esm-tags');
    await create('conf-esm-tags-fn', 'exports.handler = async () => {};');
    const m = await lambda.send(new CreateEventSourceMappingCommand({ FunctionName: 'conf-esm-tags-fn', EventSourceArn: q.arn, Enabled: false, Tags: { testtag: 'v' } }));
    const arn = m.EventSourceMappingArn!;
    assert.deepEqual((await lambda.send(new ListTagsCommand({ Resource: arn }))).Tags, { testtag: 'v' });
    await lambda.send(new TagResourceCommand({ Resource: arn, Tags: { A: 'tag-a', B: 'tag-b' } }));
    await lambda.send(new UntagResourceCommand({ Resource: arn, TagKeys: ['testtag', 'B', 'nonexisting'] }));
    assert.deepEqual((await lambda.send(new ListTagsCommand({ Resource: arn }))).Tags, { A: 'tag-a' });
    const missing = arn.replace(/[0-9a-f]{12}$/, '000000000000');
    await expectAwsError(lambda.send(new TagResourceCommand({ Resource: missing, Tags: { A: 'a' } })), {
      name: 'ResourceNotFoundException', status: 404, type: 'User', message: `Event source mapping not found: ${missing}`,
    });
  });

  it('an empty FilterCriteria is left out of the answers', async () => {
    const q = await createQueue(sqs, 'conf-esm');
    await create('conf-esm-fn', 'exports.handler = async () => {};');
    const created = await lambda.send(new CreateEventSourceMappingCommand({ FunctionName: 'conf-esm-fn', EventSourceArn: q.arn, FilterCriteria: {}, Enabled: false }));
    assert.equal(created.FilterCriteria, undefined);
    const withFilters = await lambda.send(new UpdateEventSourceMappingCommand({ UUID: created.UUID, FilterCriteria: { Filters: [{ Pattern: '{"body":{"a":[1]}}' }] } }));
    assert.deepEqual(withFilters.FilterCriteria, { Filters: [{ Pattern: '{"body":{"a":[1]}}' }] });
    await lambda.send(new UpdateEventSourceMappingCommand({ UUID: created.UUID, FilterCriteria: { Filters: [] } }));
    assert.equal((await lambda.send(new GetEventSourceMappingCommand({ UUID: created.UUID }))).FilterCriteria, undefined);
  });
});
