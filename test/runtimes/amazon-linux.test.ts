// The sandbox looks like Amazon Linux where functions notice: /bin/sh is bash, the usual tools are
// there, the sandbox user has a passwd entry, and AWS's own custom runtime tutorial runs verbatim.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeCode, fnConfig, testInvoker, invokeJson, cleanupTemp } from '../invoke/fixtures.js';

const invoker = testInvoker();
after(async () => {
  await invoker.close();
  cleanupTemp();
});

const exe = (content: string) => ({ content, mode: 0o755 });

// AWS's "Building a custom runtime" tutorial (docs.aws.amazon.com/lambda/latest/dg/runtimes-walkthrough.html),
// bootstrap and function.sh exactly as published: `set -o pipefail` needs bash behind /bin/sh.
const TUTORIAL_BOOTSTRAP = `#!/bin/sh

set -euo pipefail

# Initialization - load function handler
source $LAMBDA_TASK_ROOT/"$(echo $_HANDLER | cut -d. -f1).sh"

# Processing
while true
do
  HEADERS="$(mktemp)"
  # Get an event. The HTTP request will block until one is received
  EVENT_DATA=$(curl -sS -LD "$HEADERS" "http://\${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")

  # Extract request ID by scraping response headers received above
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)

  # Run the handler function from the script
  RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT_DATA")

  # Send the response
  curl "http://\${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response"  -d "$RESPONSE"
done
`;

const TUTORIAL_FUNCTION = `function handler () {
  EVENT_DATA=$1

  RESPONSE="{\\"statusCode\\": 200, \\"body\\": \\"Hello from Lambda!\\"}"
  echo $RESPONSE
}
`;

describe('an Amazon Linux-like root', () => {
  for (const runtime of ['provided.al2023', 'provided.al2']) {
    it(`runs AWS's ${runtime} tutorial bootstrap verbatim`, async () => {
      const cfg = fnConfig({
        runtime,
        handler: 'function.handler',
        codeDir: makeCode({ bootstrap: exe(TUTORIAL_BOOTSTRAP), 'function.sh': exe(TUTORIAL_FUNCTION) }),
      });
      for (let i = 0; i < 2; i++) {
        const { result, body } = await invokeJson(invoker, cfg, { key1: 'value1' });
        assert.equal(result.functionError, undefined, JSON.stringify(body));
        assert.deepEqual(body, { statusCode: 200, body: 'Hello from Lambda!' });
      }
    });
  }

  it('has bash as /bin/sh, the usual tools, and a passwd entry for the sandbox user', async () => {
    const script = `#!/bin/sh
set -eu
API="http://\${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
HEADERS="$(mktemp)"
curl -sS -LD "$HEADERS" "$API/invocation/next" > /dev/null
ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
tools=""
for t in bash curl tar gzip find grep sed awk xargs; do command -v "$t" > /dev/null && tools="$tools $t"; done
body="{\\"bash\\":\\"\${BASH_VERSION:-none}\\",\\"user\\":\\"$(id -un)\\",\\"tools\\":\\"\${tools# }\\",\\"home\\":\\"$(getent passwd "$(id -u)" | cut -d: -f6)\\"}"
curl -sS "$API/invocation/$ID/response" -d "$body" > /dev/null
`;
    const cfg = fnConfig({ runtime: 'provided.al2023', handler: 'x', codeDir: makeCode({ bootstrap: exe(script) }) });
    const { result, body } = await invokeJson(invoker, cfg);
    assert.equal(result.functionError, undefined, JSON.stringify(body));
    if (invoker.sandboxKind === 'bwrap') {
      assert.match(body.bash, /^\d+\./, '/bin/sh runs bash');
      assert.equal(body.user, 'sbx_user1051');
      assert.equal(body.home, '/home/sbx_user1051');
    }
    assert.equal(body.tools, 'bash curl tar gzip find grep sed awk xargs');
  });
});
