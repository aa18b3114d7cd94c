// The folders of src/ depend on each other in one direction (see STYLE.md's layout): no folder imports
// values from a folder that imports values from it, and the lower layers never reach up into the
// control plane, the API or the composition root.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const folderOf = (file: string) => {
  const rel = path.relative(src, file).split(path.sep);
  return rel.length === 1 ? '(root)' : rel[0]!;
};

/** Folder -> folders it imports values from (type-only imports do not count: they vanish at run time). */
function valueImports(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of files(src)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'(\.{1,2}\/[^']+)'/gms)) {
      const target = path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, '.ts'));
      const [from, to] = [folderOf(file), folderOf(target)];
      if (from === to) continue;
      const edges = graph.get(from) ?? new Map<string, string>();
      edges.set(to, path.relative(src, file));
      graph.set(from, edges);
    }
  }
  return graph;
}

describe('layers', () => {
  it('no two folders import values from each other, directly or around a loop', () => {
    const graph = valueImports();
    const cycles: string[] = [];
    const visit = (node: string, stack: string[]) => {
      for (const [next, via] of graph.get(node) ?? []) {
        const at = stack.indexOf(next);
        if (at >= 0) cycles.push([...stack.slice(at), next].join(' -> ') + ` (last edge in ${via})`);
        else if (stack.length < 12) visit(next, [...stack, next]);
      }
    };
    for (const node of graph.keys()) visit(node, [node]);
    assert.deepEqual([...new Set(cycles)], []);
  });

  it('the engine, queue, pollers, sandbox, store and shared code never import the control plane, the API or the server', () => {
    const graph = valueImports();
    for (const lower of ['invoke', 'queue', 'events', 'sandbox', 'store', 'shared', 'runtimes']) {
      for (const [to, via] of graph.get(lower) ?? []) {
        assert.ok(!['control', 'api', '(root)', 'cli'].includes(to), `${lower} imports ${to} (${via})`);
      }
    }
  });
});
