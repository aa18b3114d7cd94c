// The trace lineage recursive loop detection counts with: kept across hops, per function, and bounded
// whatever a caller puts in its X-Amzn-Trace-Id.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { invocationTraceHeader, isRecursiveLoop, RECURSION_LIMIT } from '../../src/shared/recursion.js';

const A = 'arn:aws:lambda:us-east-1:000000000000:function:a';
const B = 'arn:aws:lambda:us-east-1:000000000000:function:b';
const ROOT = '1-5759e988-bd862e3fe1be46a994272793';

const lineage = (header: string) => /;Lineage=([^;]*)$/.exec(header)?.[1];

describe('trace lineage', () => {
  it("keeps the caller's root and sampling, and counts each function from 0", () => {
    const first = invocationTraceHeader(`Root=${ROOT};Parent=53995c3f42cd8ad8;Sampled=1`, A, 0);
    assert.match(first, new RegExp(`^Root=${ROOT};Parent=[0-9a-f]{16};Sampled=1;Lineage=1:[0-9a-f]{8}:0$`));
    const viaB = invocationTraceHeader(first, B, 0);
    assert.match(lineage(viaB)!, /^1:[0-9a-f]{8}:0\|[0-9a-f]{8}:0$/);
    const backToA = invocationTraceHeader(viaB, A, 0);
    assert.match(lineage(backToA)!, /^1:[0-9a-f]{8}:1\|[0-9a-f]{8}:0$/);
  });

  it("stops at a function's 17th invocation in a chain, not another function's", () => {
    let header: string | undefined;
    for (let i = 1; i <= RECURSION_LIMIT; i++) {
      header = invocationTraceHeader(header, A, 0);
      assert.equal(isRecursiveLoop(header, A), false, `invocation ${i}`);
    }
    header = invocationTraceHeader(header, A, 0);
    assert.equal(isRecursiveLoop(header, A), true);
    assert.equal(isRecursiveLoop(invocationTraceHeader(header, B, 0), B), false);
  });

  it('starts a new trace from a header that is not one, and bounds what it keeps', () => {
    for (const junk of ['', 'garbage', 'Root=1-zz;Lineage=ffffffff:999999999999', `Lineage=${'x'.repeat(10_000)}`]) {
      const h = invocationTraceHeader(junk, A, 0);
      assert.match(h, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0;Lineage=1:[0-9a-f]{8}:0/);
    }
    const many = `Root=${ROOT};Lineage=${Array.from({ length: 100 }, (_, i) => `${i.toString(16).padStart(8, '0')}:3`).join('|')}`;
    assert.equal(lineage(invocationTraceHeader(many, A, 0))!.split('|').length, 32);
  });
});
