// The server's own log: one line per event to stderr (stdout carries the readiness line and, when asked,
// function logs). Never pass secrets (environment values, credentials, payloads) to it.
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, cause?: unknown): void;
}

export function createLogger(stream: NodeJS.WritableStream = process.stderr, quiet = false): Logger {
  const line = (level: string, message: string) => {
    if (!quiet || level !== 'info') stream.write(`${new Date().toISOString()} ${level} ${message}\n`);
  };
  return {
    info: (m) => line('info', m),
    warn: (m) => line('warn', m),
    error: (m, cause) => line('error', cause instanceof Error ? `${m}: ${cause.stack ?? cause.message}` : m),
  };
}
