// Node.js module resolution as on AWS: ES modules and CommonJS find packages in layers
// (/opt/nodejs/node_modules, /opt/nodejs/nodeNN/node_modules), in NODE_PATH directories and in the
// runtime's own AWS SDK, with the function's own copy first.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeCode, fnConfig, testInvoker, invokeJson, cleanupTemp } from '../invoke/fixtures.js';

const invoker = testInvoker();
after(async () => {
  await invoker.close();
  cleanupTemp();
});

/** An ESM-only package (no "require" condition) and a CommonJS one. */
function layer(prefix: string): string {
  return makeCode({
    [`${prefix}/esm-only/package.json`]: JSON.stringify({ name: 'esm-only', type: 'module', exports: { import: './index.js' } }),
    [`${prefix}/esm-only/index.js`]: `export const where = 'layer ${prefix}';`,
    [`${prefix}/cjs-pkg/package.json`]: JSON.stringify({ name: 'cjs-pkg', main: 'main.js' }),
    [`${prefix}/cjs-pkg/main.js`]: `exports.where = 'cjs ${prefix}';`,
  });
}

for (const major of ['20', '22', '24']) {
  describe(`nodejs${major}.x module resolution`, () => {
    it('imports ES modules and requires CommonJS packages from a layer\'s nodejs/node_modules', async () => {
      const cfg = fnConfig({
        runtime: `nodejs${major}.x`,
        layerDirs: [layer('nodejs/node_modules')],
        codeDir: makeCode({
          'index.mjs': `import { where } from 'esm-only';\nimport cjs from 'cjs-pkg';\nimport { createRequire } from 'node:module';\nconst req = createRequire(import.meta.url);\nexport const handler = async () => ({ where, cjs: cjs.where, required: req('cjs-pkg').where });`,
        }),
      });
      const { result, body } = await invokeJson(invoker, cfg);
      assert.equal(result.functionError, undefined, JSON.stringify(body));
      assert.deepEqual(body, { where: 'layer nodejs/node_modules', cjs: 'cjs nodejs/node_modules', required: 'cjs nodejs/node_modules' });
    });

    it(`prefers /opt/nodejs/node${major}/node_modules, and imports from NODE_PATH directories`, async () => {
      const cfg = fnConfig({
        runtime: `nodejs${major}.x`,
        layerDirs: [layer('nodejs/node_modules'), layer(`nodejs/node${major}/node_modules`)],
        codeDir: makeCode({ 'index.mjs': `import { where } from 'esm-only';\nexport const handler = async () => where;` }),
      });
      assert.equal((await invokeJson(invoker, cfg)).body, `layer nodejs/node${major}/node_modules`);
      const custom = fnConfig({
        runtime: `nodejs${major}.x`,
        layerDirs: [layer('custom/node_modules')],
        environment: { NODE_PATH: '/opt/custom/node_modules' },
        codeDir: makeCode({ 'index.mjs': `import { where } from 'esm-only';\nexport const handler = async () => where;` }),
      });
      const { body } = await invokeJson(invoker, custom);
      assert.equal(body, 'layer custom/node_modules');
    });

    it('imports and requires the runtime\'s own AWS SDK, the function\'s own copy first', async () => {
      const cfg = fnConfig({
        runtime: `nodejs${major}.x`,
        codeDir: makeCode({
          'index.mjs': `import { S3Client } from '@aws-sdk/client-s3';\nimport { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';\nimport { createRequire } from 'node:module';\nconst { SQSClient } = createRequire(import.meta.url)('@aws-sdk/client-sqs');\nexport const handler = async () => [typeof S3Client, typeof DynamoDBDocumentClient, typeof SQSClient];`,
        }),
      });
      const { result, body } = await invokeJson(invoker, cfg);
      assert.equal(result.functionError, undefined, JSON.stringify(body));
      assert.deepEqual(body, ['function', 'function', 'function']);
      const own = fnConfig({
        runtime: `nodejs${major}.x`,
        codeDir: makeCode({
          'node_modules/@aws-sdk/client-s3/package.json': JSON.stringify({ name: '@aws-sdk/client-s3', version: '0.0.1-own', main: 'index.js' }),
          'node_modules/@aws-sdk/client-s3/index.js': 'exports.S3Client = "own copy";',
          'index.mjs': `import { S3Client } from '@aws-sdk/client-s3';\nexport const handler = async () => S3Client;`,
        }),
      });
      assert.equal((await invokeJson(invoker, own)).body, 'own copy');
    });

    it('still reports a package found nowhere as Runtime.ImportModuleError', async () => {
      const cfg = fnConfig({ runtime: `nodejs${major}.x`, codeDir: makeCode({ 'index.mjs': `import x from 'no-such-package';\nexport const handler = async () => x;` }) });
      const { result, body } = await invokeJson(invoker, cfg);
      assert.equal(result.functionError, 'Unhandled');
      assert.equal(body.errorType, 'Runtime.ImportModuleError');
      assert.match(body.errorMessage, /Cannot find package 'no-such-package'/);
    });
  });
}
