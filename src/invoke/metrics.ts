// The engine's metrics in the Prometheus text exposition format (version 0.0.4), written by hand:
// `# HELP` and `# TYPE` once per family, label values escaped (\\, \", \n), histograms as cumulative
// `_bucket{le="…"}` series ending in le="+Inf", then `_sum` and `_count`.
//
// They mirror CloudWatch's per-function Lambda metrics: Invocations, Errors, Throttles, Duration,
// ConcurrentExecutions, plus what only a local engine can show (environments by state, cold starts).
// Counters and the histogram are kept here; gauges are read from the engine when scraped.

import type { ThrottleReason } from './types.js';

/** Upper bounds in seconds: 5 ms (a warm no-op) up to Lambda's 900 s maximum timeout. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900] as const;

export const PREFIX = 'lambdalite_';

export type EnvironmentStateLabel = 'starting' | 'idle' | 'busy' | 'provisioned';

/** What the engine reports at scrape time. */
export interface GaugeSnapshot {
  /** In-flight invocations per function name. */
  readonly concurrent: ReadonlyMap<string, number>;
  /** Live environments per (function name, version, state). */
  readonly environments: readonly { readonly functionName: string; readonly version: string; readonly state: EnvironmentStateLabel; readonly count: number }[];
  /** Sum of MemorySize of live environments against the node's budget. */
  readonly memoryUsedMb: number;
  readonly memoryBudgetMb: number;
}

interface PerVersion {
  invocations: number;
  errors: number;
  coldStarts: number;
  readonly buckets: number[];
  sum: number;
  count: number;
}

export class EngineMetrics {
  /** function name -> version -> counters */
  readonly #fns = new Map<string, Map<string, PerVersion>>();
  /** function name -> reason -> count */
  readonly #throttles = new Map<string, Map<ThrottleReason, number>>();
  /** function name -> invocations stopped by recursive loop detection */
  readonly #recursionDropped = new Map<string, number>();

  #get(functionName: string, version: string): PerVersion {
    let versions = this.#fns.get(functionName);
    if (!versions) this.#fns.set(functionName, (versions = new Map()));
    let v = versions.get(version);
    if (!v) versions.set(version, (v = { invocations: 0, errors: 0, coldStarts: 0, buckets: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 }));
    return v;
  }

  /** One finished invocation; durationMs is the function's own Duration (init excluded, as AWS). */
  invocation(functionName: string, version: string, durationMs: number, error: boolean): void {
    const v = this.#get(functionName, version);
    v.invocations++;
    if (error) v.errors++;
    const s = durationMs / 1000;
    for (let i = 0; i < DURATION_BUCKETS.length; i++) if (s <= (DURATION_BUCKETS[i] as number)) v.buckets[i]!++;
    v.sum += s;
    v.count++;
  }

  coldStart(functionName: string, version: string): void {
    this.#get(functionName, version).coldStarts++;
  }

  throttle(functionName: string, reason: ThrottleReason): void {
    let reasons = this.#throttles.get(functionName);
    if (!reasons) this.#throttles.set(functionName, (reasons = new Map()));
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }

  /** An invocation stopped as the 17th of a chain (CloudWatch's RecursiveInvocationsDropped). */
  recursionDropped(functionName: string): void {
    this.#recursionDropped.set(functionName, (this.#recursionDropped.get(functionName) ?? 0) + 1);
  }

  render(g: GaugeSnapshot): string {
    const out: string[] = [];
    const family = (name: string, type: 'counter' | 'gauge' | 'histogram', help: string) => {
      out.push(`# HELP ${PREFIX}${name} ${help}`, `# TYPE ${PREFIX}${name} ${type}`);
    };
    const perVersion = (name: string, type: 'counter', help: string, pick: (v: PerVersion) => number) => {
      family(name, type, help);
      for (const [fn, versions] of this.#fns) {
        for (const [version, v] of versions) out.push(`${PREFIX}${name}${labels({ function_name: fn, version })} ${pick(v)}`);
      }
    };

    perVersion('invocations_total', 'counter', 'Invocations that ran function code (throttled ones excluded, as CloudWatch Invocations).', (v) => v.invocations);
    perVersion('errors_total', 'counter', 'Invocations that ended in a function error (X-Amz-Function-Error), timeouts and runtime exits included.', (v) => v.errors);
    perVersion('cold_starts_total', 'counter', 'On-demand environments started for an invocation.', (v) => v.coldStarts);

    family('throttles_total', 'counter', 'Invocations refused with TooManyRequestsException, by Reason.');
    for (const [fn, reasons] of this.#throttles) {
      for (const [reason, n] of reasons) out.push(`${PREFIX}throttles_total${labels({ function_name: fn, reason })} ${n}`);
    }

    family('recursive_invocations_dropped_total', 'counter', 'Invocations stopped by recursive loop detection, as CloudWatch RecursiveInvocationsDropped.');
    for (const [fn, n] of this.#recursionDropped) out.push(`${PREFIX}recursive_invocations_dropped_total${labels({ function_name: fn })} ${n}`);

    family('duration_seconds', 'histogram', "The function's Duration as in its REPORT line (init excluded).");
    for (const [fn, versions] of this.#fns) {
      for (const [version, v] of versions) {
        DURATION_BUCKETS.forEach((le, i) => out.push(`${PREFIX}duration_seconds_bucket${labels({ function_name: fn, version, le: String(le) })} ${v.buckets[i]}`));
        out.push(`${PREFIX}duration_seconds_bucket${labels({ function_name: fn, version, le: '+Inf' })} ${v.count}`);
        out.push(`${PREFIX}duration_seconds_sum${labels({ function_name: fn, version })} ${formatFloat(v.sum)}`);
        out.push(`${PREFIX}duration_seconds_count${labels({ function_name: fn, version })} ${v.count}`);
      }
    }

    family('concurrent_executions', 'gauge', 'Invocations in flight (provisioned and on-demand), as CloudWatch ConcurrentExecutions.');
    for (const [fn, n] of g.concurrent) out.push(`${PREFIX}concurrent_executions${labels({ function_name: fn })} ${n}`);

    family(
      'environments',
      'gauge',
      'Live execution environments by state: starting (init running), idle and busy (on-demand, or provisioned while serving), provisioned (initialised provisioned environments waiting for requests).',
    );
    for (const e of g.environments) {
      out.push(`${PREFIX}environments${labels({ function_name: e.functionName, version: e.version, state: e.state })} ${e.count}`);
    }

    family('environment_memory_megabytes', 'gauge', 'Sum of MemorySize of live environments (counted against the memory budget).');
    out.push(`${PREFIX}environment_memory_megabytes ${g.memoryUsedMb}`);
    family('environment_memory_budget_megabytes', 'gauge', 'Memory budget for all environments on this node.');
    out.push(`${PREFIX}environment_memory_budget_megabytes ${g.memoryBudgetMb}`);
    return `${out.join('\n')}\n`;
  }
}

function labels(l: Readonly<Record<string, string>>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return `{${parts.join(',')}}`;
}

function formatFloat(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(12)));
}
