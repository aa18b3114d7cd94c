// Routes a request to the model operation whose method, path template and fixed query parameters
// (`?find=LayerVersion`, `?List=ALL`) match it. Routes are compiled once at start-up.
import type { OperationSpec } from './model-types.js';

type Segment = { readonly literal: string } | { readonly label: string; readonly greedy: boolean };

export interface CompiledRoute<N extends string> {
  readonly op: OperationSpec<N>;
  readonly segments: readonly Segment[];
  /** More literal segments and fixed query parameters win over fewer. */
  readonly specificity: number;
}

export interface RouteMatch<N extends string> {
  readonly op: OperationSpec<N>;
  readonly labels: Readonly<Record<string, string>>;
}

function splitPath(p: string): string[] {
  return p.split('/').filter((s) => s !== '');
}

export class Router<N extends string> {
  readonly #byMethod = new Map<string, CompiledRoute<N>[]>();

  constructor(operations: readonly OperationSpec<N>[]) {
    for (const op of operations) {
      const segments: Segment[] = splitPath(op.path).map((s) => {
        const m = /^\{([^}+]+)(\+?)\}$/.exec(s);
        return m ? { label: m[1]!, greedy: m[2] === '+' } : { literal: s };
      });
      const literals = segments.filter((s) => 'literal' in s).length;
      const route = { op, segments, specificity: literals * 10 + Object.keys(op.staticQuery).length * 100 };
      const list = this.#byMethod.get(op.method) ?? [];
      list.push(route);
      this.#byMethod.set(op.method, list);
    }
    for (const list of this.#byMethod.values()) list.sort((a, b) => b.specificity - a.specificity);
  }

  /** `rawPath` is the URL path still percent-encoded; labels are decoded after splitting. */
  match(method: string, rawPath: string, query: URLSearchParams): RouteMatch<N> | undefined {
    const routes = this.#byMethod.get(method);
    if (!routes) return undefined;
    const parts = splitPath(rawPath);
    for (const route of routes) {
      const labels = matchSegments(route.segments, parts);
      if (!labels) continue;
      let queryOk = true;
      for (const [k, v] of Object.entries(route.op.staticQuery)) {
        if (query.get(k) !== v) { queryOk = false; break; }
      }
      if (queryOk) return { op: route.op, labels };
    }
    return undefined;
  }
}

function matchSegments(segments: readonly Segment[], parts: readonly string[]): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if ('literal' in seg) {
      if (parts[i] !== seg.literal) return undefined;
      continue;
    }
    if (seg.greedy) {
      const rest = parts.slice(i);
      if (rest.length === 0) return undefined;
      labels[seg.label] = rest.map(safeDecode).join('/');
      return labels;
    }
    const part = parts[i];
    if (part === undefined || part === '') return undefined;
    const decoded = safeDecode(part);
    labels[seg.label] = decoded;
  }
  return parts.length === segments.length ? labels : undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
