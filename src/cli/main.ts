// The `lambdalite` command. One error boundary: user errors print one line without a stack.
import { parseOptions, optionSpecs, ConfigError } from '../shared/config.js';
import { startServer } from '../server.js';
import { SandboxRequiredError } from '../invoke/engine.js';
import { installRuntimes, runtimesCommand } from './runtimes.js';
import { clientUsage, isClientCommand, runClientCommand } from './commands.js';
import './dev.js';
import { runLogs } from './logs.js';

const usage = `usage: lambdalite start [options]
       lambdalite logs NAME [--follow] [--since 10m] [--filter PATTERN] [--endpoint URL]
       lambdalite runtimes list|install RUNTIME... (see lambdalite runtimes --help)
${clientUsage}
\`start\` runs the AWS Lambda API (2015-03-31) on this machine; the other commands talk to it.

options of start (each also an environment variable):
${optionSpecs.map((s) => `  ${`${s.flag}${s.kind === 'bool' ? '' : ' VALUE'}`.padEnd(26)} ${s.env.padEnd(28)} ${s.help}`).join('\n')}
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(usage);
    return command === undefined ? 2 : 0;
  }
  if (command === 'logs') return runLogs(rest);
  if (command === 'runtimes') return runtimesCommand(rest);
  if (isClientCommand(command)) return runClientCommand(command, rest);
  if (command !== 'start') {
    process.stderr.write(`lambdalite: unknown command '${command}'\n${usage}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(usage);
    return 0;
  }
  const options = parseOptions(rest, process.env);
  await installRuntimes(options, options.installRuntimes, (line) => process.stderr.write(`lambdalite: ${line}\n`));
  const server = await startServer(options);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`lambdalite: ${signal}, shutting down\n`);
      void server.close().then(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    // Only once the handlers are installed: a supervisor may signal as soon as it reads this line.
    process.stdout.write(`lambdalite listening on ${server.url} (data dir ${options.dataDir})\n`);
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`lambdalite: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof SandboxRequiredError) {
      process.stderr.write(`lambdalite: ${err.message}\n`);
      process.exit(1);
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      process.stderr.write(`lambdalite: the address is already in use (${e.message})\n`);
      process.exit(1);
    }
    process.stderr.write(`lambdalite: ${e.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
