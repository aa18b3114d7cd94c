// `lambdalite logs NAME`: a function's logs at a terminal, like `aws logs tail`, read through the
// server's CloudWatch Logs API (so it works against any lambdalite, local or not). Each line shows its
// time, request id and level, coloured by level; --follow keeps polling FilterLogEvents.
import { CloudWatchLogsClient, FilterLogEventsCommand, type FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import { ConfigError } from '../shared/config.js';

export const logsUsage = `usage: lambdalite logs NAME [--follow] [--since 10m] [--filter PATTERN] [--endpoint URL] [--json]

Prints a function's logs (log group /aws/lambda/NAME, or NAME itself when it starts with '/').

  --follow, -f        keep printing new lines as they arrive
  --since DURATION    how far back to start: 30s, 10m (default), 2h, 1d, or an ISO 8601 time
  --filter PATTERN    a CloudWatch Logs filter pattern (ERROR, "a phrase", { $.level = "ERROR" }, ...)
  --endpoint URL      the lambdalite server (default $LAMBDALITE_ENDPOINT or http://127.0.0.1:9001)
  --json              one JSON event per line, for scripts
  --no-color          plain text even on a terminal (NO_COLOR is honoured too)
`;

interface LogsArgs {
  readonly name: string;
  readonly follow: boolean;
  readonly since: number;
  readonly filter: string | undefined;
  readonly endpoint: string;
  readonly json: boolean;
  readonly color: boolean;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `10m` -> ten minutes ago; an ISO time as is. */
export function parseSince(value: string, now: number): number {
  const m = /^(\d+)([smhdw])$/.exec(value);
  if (m) return now - Number(m[1]) * UNITS[m[2]!]!;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new ConfigError(`--since must be a duration such as 10m or 2h, or an ISO 8601 time, not '${value}'`);
  return t;
}

function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv, now: number, isTty: boolean): LogsArgs {
  let name: string | undefined;
  let follow = false;
  let since = '10m';
  let filter: string | undefined;
  let endpoint = env['LAMBDALITE_ENDPOINT'] || 'http://127.0.0.1:9001';
  let json = false;
  let color = isTty && !env['NO_COLOR'];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new ConfigError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--follow' || arg === '-f') follow = true;
    else if (arg === '--since') since = value();
    else if (arg === '--filter') filter = value();
    else if (arg === '--endpoint') endpoint = value();
    else if (arg === '--json') json = true;
    else if (arg === '--no-color') color = false;
    else if (arg.startsWith('-')) throw new ConfigError(`unknown option ${arg}`);
    else if (name === undefined) name = arg;
    else throw new ConfigError(`unexpected argument '${arg}'`);
  }
  if (name === undefined) throw new ConfigError(`logs needs a function name\n${logsUsage}`);
  if (!/^https?:\/\//.test(endpoint)) throw new ConfigError(`--endpoint must be an http(s) URL, not '${endpoint}'`);
  return { name, follow, since: parseSince(since, now), filter, endpoint, json, color };
}

export interface FormattedLine {
  readonly time: string;
  readonly requestId: string | undefined;
  readonly level: string;
  readonly text: string;
}

/**
 * Reads the level, request id and text out of the formats Lambda logs carry: the Node.js runtime's
 * `time\tid\tLEVEL\ttext`, Python's `[LEVEL]\ttime\tid\ttext`, the platform lines, and the JSON
 * records of LogFormat JSON.
 */
export function describeEvent(message: string, timestamp: number): FormattedLine {
  const time = new Date(timestamp).toISOString();
  let m = /^(\d{4}-\d\d-\d\dT[\d:.]+Z)\t([^\t]*)\t([A-Z]+)\t([\s\S]*)$/.exec(message);
  if (m) return { time, requestId: m[2] === 'undefined' ? undefined : m[2], level: m[3]!, text: m[4]! };
  m = /^\[([A-Z]+)\]\t(\S+)\t([^\t]*)\t([\s\S]*)$/.exec(message);
  if (m) return { time, requestId: m[3] || undefined, level: m[1] === 'WARNING' ? 'WARN' : m[1]!, text: m[4]! };
  m = /^(INIT_START|START|END|REPORT|INIT_REPORT)\b(?:.*?RequestId: (\S+))?/.exec(message);
  if (m) return { time, requestId: m[2], level: 'PLATFORM', text: message };
  if (message.startsWith('{')) {
    try {
      const r = JSON.parse(message) as Record<string, unknown>;
      if (typeof r['type'] === 'string' && typeof r['record'] === 'object' && r['record'] !== null) {
        const rec = r['record'] as Record<string, unknown>;
        return { time, requestId: typeof rec['requestId'] === 'string' ? rec['requestId'] : undefined, level: 'PLATFORM', text: `${r['type']} ${JSON.stringify(rec)}` };
      }
      const level = typeof r['level'] === 'string' ? r['level'] : typeof r['log_level'] === 'string' ? r['log_level'] : undefined;
      if (level !== undefined) {
        const text = typeof r['message'] === 'string' ? r['message'] : JSON.stringify(r['message'] ?? r);
        return { time, requestId: typeof r['requestId'] === 'string' ? r['requestId'] : undefined, level: level.toUpperCase(), text };
      }
    } catch {
      // not JSON after all: shown as is
    }
  }
  return { time, requestId: undefined, level: '', text: message };
}

const COLORS: Record<string, string> = { ERROR: '31', FATAL: '31;1', WARN: '33', DEBUG: '90', TRACE: '90', PLATFORM: '36' };

export function formatLine(line: FormattedLine, color: boolean): string {
  const paint = (code: string | undefined, s: string) => (color && code ? `\u001b[${code}m${s}\u001b[0m` : s);
  const id = line.requestId ? line.requestId.slice(0, 8) : '-'.padEnd(8);
  const level = line.level.padEnd(8);
  return `${paint('2', line.time)} ${paint('2', id)} ${paint(COLORS[line.level], level)} ${paint(line.level === 'ERROR' || line.level === 'FATAL' ? '31' : undefined, line.text)}`;
}

const POLL_MS = 500;

export async function runLogs(argv: readonly string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out.write(logsUsage);
    return 0;
  }
  const a = parseArgs(argv, process.env, Date.now(), (out as { isTTY?: boolean }).isTTY === true);
  const group = a.name.startsWith('/') ? a.name : `/aws/lambda/${a.name}`;
  // The SDK's notice about its future Node.js requirement is not the user's concern at a terminal.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const hasKeys = process.env['AWS_ACCESS_KEY_ID'] !== undefined && process.env['AWS_SECRET_ACCESS_KEY'] !== undefined;
  const client = new CloudWatchLogsClient({
    endpoint: a.endpoint,
    region: process.env['AWS_REGION'] || process.env['AWS_DEFAULT_REGION'] || 'us-east-1',
    // lambdalite takes any key unless it was started with credentials; the usual variables win.
    ...(hasKeys ? {} : { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
    maxAttempts: 2,
  });
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  process.once('SIGINT', stop);
  try {
    let start = a.since;
    // Events at the last timestamp seen may arrive in a later poll; their ids keep them from repeating.
    let seenAtStart = new Set<string>();
    let waitedForGroup = false;
    for (;;) {
      let token: string | undefined;
      let newest = start;
      const seenNow = new Set<string>();
      try {
        do {
          const page = await client.send(new FilterLogEventsCommand({ logGroupName: group, startTime: start, ...(a.filter ? { filterPattern: a.filter } : {}), ...(token ? { nextToken: token } : {}) }));
          for (const e of page.events ?? []) {
            const id = e.eventId ?? '';
            if (seenAtStart.has(id)) continue;
            print(e, a, out);
            if ((e.timestamp ?? 0) > newest) {
              newest = e.timestamp ?? newest;
              seenNow.clear();
            }
            if (e.timestamp === newest) seenNow.add(id);
          }
          token = page.nextToken;
        } while (token && !stopped);
      } catch (e) {
        if ((e as { name?: string }).name !== 'ResourceNotFoundException') throw e;
        if (!a.follow) throw new ConfigError(`no logs for ${a.name}: log group ${group} does not exist (a function's group appears with its first log line)`);
        if (!waitedForGroup) process.stderr.write(`lambdalite: waiting for log group ${group}\n`);
        waitedForGroup = true;
      }
      if (!a.follow || stopped) return 0;
      if (newest > start) {
        start = newest;
        seenAtStart = seenNow;
      } else {
        for (const id of seenNow) seenAtStart.add(id);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
      if (stopped) return 0;
    }
  } finally {
    process.off('SIGINT', stop);
    client.destroy();
  }
}

function print(e: FilteredLogEvent, a: LogsArgs, out: NodeJS.WritableStream): void {
  const message = e.message ?? '';
  if (a.json) {
    out.write(`${JSON.stringify({ timestamp: e.timestamp, logStreamName: e.logStreamName, message, eventId: e.eventId })}\n`);
    return;
  }
  out.write(`${formatLine(describeEvent(message, e.timestamp ?? 0), a.color)}\n`);
}
