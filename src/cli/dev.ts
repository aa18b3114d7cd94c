// `lambdalite dev DIR --name NAME --runtime RUNTIME`: the function runs the folder itself (hot reload, see
// src/control/hot-reload.ts): created or updated with Code={S3Bucket: 'hot-reload', S3Key: DIR}, then every
// save is live for the next invoke. Runs until interrupted, naming each change it sees.
import fs from 'node:fs';
import path from 'node:path';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { Parsed } from './args.js';
import { UsageError } from './args.js';
import { codeSpecFlags, createOrUpdate, folder, registerCommand } from './commands.js';
import { HOT_RELOAD_BUCKET } from '../control/hot-reload.js';

async function dev(args: Parsed, client: LambdaClient, io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream }): Promise<number> {
  const [dirArg, ...extra] = args.positionals;
  if (dirArg === undefined) throw new UsageError('missing DIR (the folder holding the function code)');
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  const dir = fs.realpathSync(folder(dirArg));
  const name = args.values.get('name') ?? path.basename(dir);
  const { created, config } = await createOrUpdate(client, { ...codeSpecFlags(args, name), code: { S3Bucket: HOT_RELOAD_BUCKET, S3Key: dir } });
  const json = args.flags.has('json');
  if (json) io.stdout.write(`${JSON.stringify({ FunctionName: config.FunctionName, FunctionArn: config.FunctionArn, Folder: dir, Created: created })}\n`);
  else io.stdout.write(`${created ? 'created' : 'updated'} ${config.FunctionName} (${config.Runtime}, ${config.Handler}): watching ${dir}; each save is live for the next invoke (Ctrl-C stops)\n`);
  const watcher = fs.watch(dir, { recursive: true }, (_event, file) => {
    if (file === null) return;
    if (json) io.stdout.write(`${JSON.stringify({ Changed: file })}\n`);
    else io.stdout.write(`changed ${file}\n`);
  });
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    watcher.on('error', (e) => {
      io.stderr.write(`lambdalite dev: stopped watching ${dir}: ${e.message}\n`);
      resolve();
    });
  });
  watcher.close();
  return 0;
}

registerCommand('dev', ['name', 'runtime', 'handler', 'role', 'memory', 'timeout'], [], dev);
