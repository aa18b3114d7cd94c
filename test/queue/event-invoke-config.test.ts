// Put/Update/Get/Delete/ListFunctionEventInvokeConfigs with AWS's shapes and texts (LocalStack's recording
// of AWS, TestLambdaEventInvokeConfig).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateAliasCommand, CreateFunctionCommand, DeleteFunctionEventInvokeConfigCommand, GetFunctionEventInvokeConfigCommand,
  ListFunctionEventInvokeConfigsCommand, PublishVersionCommand, PutFunctionEventInvokeConfigCommand, UpdateFunctionEventInvokeConfigCommand,
} from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { nodeHandlerZip, ROLE } from '../helpers/zip.js';
import { expectAwsError } from '../helpers/aws-error.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function';

describe('event invoke configs', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    for (const name of ['eic', 'eic-2']) {
      await t.client.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: await nodeHandlerZip() } }));
    }
  });
  after(() => t?.close());

  it('puts, overwrites, updates, gets, lists and deletes with AWS\'s shapes', async () => {
    const put = await t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'eic', MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 }));
    assert.equal(put.FunctionArn, `${ARN}:eic:$LATEST`);
    assert.ok(put.LastModified instanceof Date);
    assert.deepEqual(put.DestinationConfig, { OnSuccess: {}, OnFailure: {} });
    const overwritten = await t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'eic', MaximumRetryAttempts: 0 }));
    assert.equal(overwritten.MaximumRetryAttempts, 0);
    assert.equal(overwritten.MaximumEventAgeInSeconds, undefined, 'put replaces the whole config');
    await t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'eic', MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 }));
    const updated = await t.client.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'eic', MaximumRetryAttempts: 0 }));
    assert.equal(updated.MaximumRetryAttempts, 0);
    assert.equal(updated.MaximumEventAgeInSeconds, 60, 'update keeps what it does not name');
    const got = await t.client.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'eic', Qualifier: '$LATEST' }));
    assert.equal(got.MaximumEventAgeInSeconds, 60);
    const dest = await t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'eic:$LATEST', Qualifier: '$LATEST', DestinationConfig: { OnSuccess: { Destination: `${ARN}:eic-2` } } }));
    assert.deepEqual(dest.DestinationConfig, { OnSuccess: { Destination: `${ARN}:eic-2` }, OnFailure: {} });

    const v = await t.client.send(new PublishVersionCommand({ FunctionName: 'eic' }));
    await expectAwsError(t.client.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'eic', Qualifier: v.Version })), {
      name: 'ResourceNotFoundException', status: 404, message: `The function ${ARN}:eic:${v.Version} doesn't have an EventInvokeConfig`, type: 'User',
    });
    await t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'eic', Qualifier: v.Version, MaximumRetryAttempts: 1 }));
    await t.client.send(new CreateAliasCommand({ FunctionName: 'eic', Name: 'live', FunctionVersion: v.Version }));
    await t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: `${ARN}:eic:live`, MaximumRetryAttempts: 1 }));
    const list = await t.client.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'eic' }));
    assert.deepEqual(list.FunctionEventInvokeConfigs?.map((c) => c.FunctionArn), [`${ARN}:eic:$LATEST`, `${ARN}:eic:${v.Version}`, `${ARN}:eic:live`]);
    const page1 = await t.client.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'eic', MaxItems: 2 }));
    assert.equal(page1.FunctionEventInvokeConfigs?.length, 2);
    const page2 = await t.client.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'eic', MaxItems: 2, Marker: page1.NextMarker }));
    assert.deepEqual(page2.FunctionEventInvokeConfigs?.map((c) => c.FunctionArn), [`${ARN}:eic:live`]);
    assert.equal(page2.NextMarker, undefined);

    for (const q of ['$LATEST', v.Version!, 'live']) await t.client.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'eic', Qualifier: q }));
    assert.deepEqual((await t.client.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'eic' }))).FunctionEventInvokeConfigs, []);
    await expectAwsError(t.client.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'eic' })), {
      name: 'ResourceNotFoundException', status: 404, message: `The function ${ARN}:eic:$LATEST doesn't have an EventInvokeConfig`, type: 'User',
    });
  });

  it('answers AWS\'s errors', async () => {
    await expectAwsError(t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'doesnotexist' })), {
      name: 'InvalidParameterValueException', status: 400, message: 'You must specify at least one of error handling or destination setting.', type: 'User',
    });
    await expectAwsError(t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'doesnotexist', MaximumRetryAttempts: 1 })), {
      name: 'ResourceNotFoundException', status: 404, message: "The function doesn't exist.", type: 'User',
    });
    await expectAwsError(t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'eic', Qualifier: 'nope', MaximumRetryAttempts: 1 })), {
      name: 'ResourceNotFoundException', status: 404, message: "The function doesn't exist.",
    });
    await expectAwsError(t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'eic', DestinationConfig: { OnSuccess: { Destination: `${ARN}:doesnotexist` } } })), {
      name: 'InvalidParameterValueException', status: 400, message: `The destination ARN ${ARN}:doesnotexist is invalid.`,
    });
    await expectAwsError(t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'eic', DestinationConfig: { OnSuccess: { Destination: `${ARN}:eic` } } })), {
      name: 'InvalidParameterValueException', status: 400, message: "You can't specify the function as a destination for itself.",
    });
    const iam = 'arn:aws:iam:us-east-1:000000000000:function:eic';
    await expectAwsError(t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'eic', DestinationConfig: { OnSuccess: { Destination: iam } } })), {
      name: 'InvalidParameterValueException', status: 400, message: `The provided destination config DestinationConfig(onSuccess=OnSuccess(destination=${iam}), onFailure=null) is invalid.`,
    });
    await expectAwsError(t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'eic:1', Qualifier: '$LATEST', MaximumRetryAttempts: 1 })), {
      name: 'InvalidParameterValueException', status: 400, message: 'The derived qualifier from the function name does not match the specified qualifier.',
    });
    await expectAwsError(t.client.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'doesnotexist', MaximumRetryAttempts: 0 })), {
      name: 'ResourceNotFoundException', status: 404, message: "The function doesn't exist.",
    });
    await expectAwsError(t.client.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'doesnotexist' })), {
      name: 'ResourceNotFoundException', status: 404, message: "The function doesn't exist.",
    });
    await expectAwsError(t.client.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'doesnotexist' })), {
      name: 'ResourceNotFoundException', status: 404, message: `The function ${ARN}:doesnotexist:$LATEST doesn't have an EventInvokeConfig`,
    });
    await expectAwsError(t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'eic', MaximumEventAgeInSeconds: 59 })), {
      name: 'ValidationException', status: 400, message: /maximumEventAgeInSeconds/,
    });
  });
});
