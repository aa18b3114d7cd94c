#!/usr/bin/env node
// Oversized requests: the server's peak memory while 8 clients at once send a 60 MB Invoke body each
// (declared with Content-Length and sent in full, as the SDKs do), against the same server idle.
//
//   npm run build && node bench/oversized-requests.mjs
//
// The server is the real CLI in a child process; its peak RSS is read from /proc/<pid>/status (VmHWM),
// so the load generator's own buffers do not count. Every request must be answered 413.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLIENTS = 8;
const BODY = 60 * 1024 * 1024;

const peakMb = (pid) => Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambdalite-bench-oversized-'));
const proc = spawn(process.execPath, [path.join(root, 'bin', 'lambdalite.js'), 'start', '--port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  let out = '';
  proc.stdout.on('data', (d) => {
    out += d;
    const m = /listening on (\S+)/.exec(out);
    if (m) resolve(new URL(m[1]));
  });
  proc.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
});
proc.stdout.resume();

/** One Invoke of BODY bytes, sent in full whatever the server answers; resolves with the status. */
function oversized() {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let head = '';
    socket.on('error', reject);
    socket.on('data', (d) => {
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        resolve(Number(head.split(' ')[1]));
        socket.destroy();
      }
    });
    socket.write(`POST /2015-03-31/functions/f/invocations HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: ${BODY}\r\n\r\n`);
    const chunk = Buffer.alloc(1 << 20, 0x61);
    let sent = 0;
    const pump = () => {
      while (sent < BODY && !socket.destroyed) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
    };
    pump();
  });
}

const idle = peakMb(proc.pid);
const statuses = await Promise.all(Array.from({ length: CLIENTS }, oversized));
const loaded = peakMb(proc.pid);
proc.kill('SIGTERM');
await new Promise((r) => proc.once('exit', r));
fs.rmSync(dataDir, { recursive: true, force: true });

if (!statuses.every((s) => s === 413)) throw new Error(`expected 413 for every request, got ${statuses.join(', ')}`);
console.log(`${CLIENTS} concurrent ${BODY / 1048576} MB Invoke bodies, all answered 413`);
console.log(`server peak RSS: ${loaded.toFixed(1)} MB under the oversized requests (floor, same server idle: ${idle.toFixed(1)} MB; growth ${(loaded - idle).toFixed(1)} MB)`);
