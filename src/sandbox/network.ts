// Network isolation of execution environments: each one gets its own network namespace, in which
// its Runtime API and the Lambda API are served on its own loopback. Nothing of an environment
// listens on the host, so one environment can neither find nor reach another's Runtime API.
//
// How the listeners get there without a proxy hop: the launcher (launcher.ts) is started through
// `unshare --net` and a small Python helper that, inside the new namespace, brings `lo` up, joins the
// environment's cgroups, binds 127.0.0.1:9001 (Runtime API, AWS's address) and 127.0.0.1:9002 (Lambda
// API) and passes both listening sockets to the server over the Node.js IPC channel (SCM_RIGHTS),
// then execs the launcher shell. The server accepts on those sockets: the runtime's connections
// are plain loopback connections inside its namespace, exactly as cheap as before. All of it happens
// when a spare launcher is started, off the cold path.
//
// Modes (--function-network):
//   none    only lo in the namespace (Runtime API and Lambda API).
//   egress  (default) plus pasta (passt) attached to the namespace: outbound connections leave
//           through the host's sockets, as outside a VPC on AWS, and connections to a TCP port bound
//           on the host's loopback reach it at the same address and port (pasta -T auto binds each
//           such port inside the namespace). Except: the environment's own ports (9001, 9002), and
//           the server's API port, which the helper holds bound (not listening) on 127.0.0.1 and ::1
//           inside, so that pasta cannot take it and connecting to it is refused. --no-map-gw keeps
//           the gateway address from leading to the host's loopback.
//   host    no namespace: environments share the server's network (no network isolation; each
//           Runtime API listens on a host loopback port).
//
// What the platform itself exchanges with code inside the namespace crosses it the same way:
// - X-Ray: the helper also binds UDP 127.0.0.1:2000 (the X-Ray daemon's default address) inside and
//   hands it over; the server reads the environment's segments from it, knowing whose they are.
// - Telemetry API deliveries go to the extension's listener on the namespace's own loopback: a
//   connector (python3 under `nsenter --net`, the server's child, started on the first delivery)
//   connects there and hands each connected socket back over its IPC channel. Nothing listens on
//   the host for either, and no environment can reach another's.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import { findExecutable } from './sandbox.js';

export type NetworkMode = 'egress' | 'none' | 'host';

export const NETWORK_MODES: readonly NetworkMode[] = ['egress', 'none', 'host'];

/** Inside an environment's namespace: AWS's Runtime API address, and where the Lambda API is served. */
export const RUNTIME_API_PORT = 9001;
export const LAMBDA_API_PORT = 9002;
/** Inside an environment's namespace: where functions send X-Ray segments (AWS_XRAY_DAEMON_ADDRESS). */
export const XRAY_DAEMON_PORT = 2000;
const LOOPBACK = '127.0.0.1';

/** What the host offers for isolating environments; decided once at start-up. */
export interface NetworkSupport {
  /** The mode in effect (`host` when isolation was asked for but is not possible here). */
  readonly mode: NetworkMode;
  readonly description: string;
  readonly python: string | undefined;
  readonly unshare: string | undefined;
  readonly pasta: string | undefined;
  readonly setpriv: string | undefined;
  /** Runs the Telemetry connector in an environment's namespace. */
  readonly nsenter: string | undefined;
}

/** A TCP listening handle received from inside a namespace (accepted by net.Server#listen). */
export type ListenHandle = object;

// Runs inside the new namespace (argv: the launcher's shell script, ports, then cgroup.procs files to
// join); the shell gets an empty environment (NODE_CHANNEL_FD must not reach the runtime). The IPC messages
// follow Node.js's own handle-passing protocol, so child_process delivers each socket as a handle.
const HELPER = `
import _socket as S, fcntl, posix, sys
pid = str(posix.getpid()).encode()
for f in sys.argv[3:]:
    fd = posix.open(f, posix.O_WRONLY)
    posix.write(fd, pid)
    posix.close(fd)
u = S.socket(S.AF_INET, S.SOCK_DGRAM)
fcntl.ioctl(u.fileno(), 0x8914, b'lo' + bytes(14) + (0x49).to_bytes(2, sys.byteorder) + bytes(22))
u.close()
ipc = S.socket(S.AF_UNIX, S.SOCK_STREAM, 0, int(posix.environ[b'NODE_CHANNEL_FD']))
buf = b''
def line(prefix):
    global buf
    while True:
        for l in buf.split(b'\\n')[:-1]:
            if l.startswith(prefix):
                buf = buf[buf.index(l) + len(l) + 1:]
                return l
        r = ipc.recv(4096)
        if not r:
            sys.exit(1)
        buf += r
def send(msg, sock):
    fds = [(S.SOL_SOCKET, S.SCM_RIGHTS, sock.fileno().to_bytes(4, sys.byteorder))] if sock else []
    ipc.sendmsg([msg + b'\\n'], fds)
    sock and sock.close()
    # As Node.js's own sender: the next handle only after this one is acknowledged.
    sock and line(b'{"cmd":"NODE_HANDLE_ACK"')
for port in sys.argv[2].split(','):
    l = S.socket(S.AF_INET, S.SOCK_STREAM)
    l.setsockopt(S.SOL_SOCKET, S.SO_REUSEADDR, 1)
    l.bind(('${LOOPBACK}', int(port)))
    l.listen(511)
    send(b'{"cmd":"NODE_HANDLE","type":"net.Native","msg":{"port":%d}}' % int(port), l)
x = S.socket(S.AF_INET, S.SOCK_DGRAM)
x.bind(('${LOOPBACK}', ${XRAY_DAEMON_PORT}))
send(b'{"cmd":"NODE_HANDLE","type":"dgram.Socket","msg":{"xray":${XRAY_DAEMON_PORT}},"dgramType":"udp4"}', x)
# Ports to keep from pasta (the API's): bound, never listening, so connecting to them is refused.
block = line(b'{"block":[')
for port in filter(None, block[10:block.index(b']')].split(b',')):
    for family, host in ((S.AF_INET, '${LOOPBACK}'), (S.AF_INET6, '::1')):
        try:
            b = S.socket(family, S.SOCK_STREAM)
            b.bind((host, int(port)))
        except OSError:
            continue
        send(b'{"cmd":"NODE_HANDLE","type":"net.Native","msg":{"blocker":%d}}' % int(port), b)
send(b'{"ready":true}', None)
ipc.close()
posix.execve('/bin/sh', ['/bin/sh', '-c', sys.argv[1]], {})
`;

/** Checks what `mode` needs; without it, environments share the host's network and this says why. */
export function detectNetwork(mode: NetworkMode): NetworkSupport {
  const python = findExecutable('python3');
  const unshare = findExecutable('unshare');
  const pasta = findExecutable('pasta');
  const setpriv = findExecutable('setpriv');
  const nsenter = findExecutable('nsenter');
  const host = (why: string): NetworkSupport => ({
    mode: 'host',
    description: `function network: host (${why}); functions share the server's network and can reach every environment's Runtime API and the API port`,
    python,
    unshare,
    pasta,
    setpriv,
    nsenter,
  });
  if (mode === 'host') return host('chosen by configuration');
  if (python === undefined || unshare === undefined) return host(`network isolation needs ${python === undefined ? 'python3' : 'unshare'}`);
  if (mode === 'egress' && pasta === undefined) return host('egress needs pasta (Debian/Ubuntu package passt)');
  const probe = spawnSync(unshare, ['--net', '--', python, '-I', '-S', '-c', PROBE], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
  if (probe.status !== 0) {
    const why = probe.stderr?.toString().trim().split('\n').pop() || probe.error?.message || `exit ${probe.status}`;
    return host(`cannot create a network namespace here: ${why}`);
  }
  return {
    mode,
    description:
      mode === 'egress'
        ? `function network: egress; own network namespace per environment, outbound and host-loopback access through pasta (${pasta})`
        : 'function network: none; own network namespace per environment with only its loopback',
    python,
    unshare,
    pasta,
    setpriv,
    nsenter,
  };
}

const PROBE = `
import _socket as S, fcntl, sys
u = S.socket(S.AF_INET, S.SOCK_DGRAM)
fcntl.ioctl(u.fileno(), 0x8914, b'lo' + bytes(14) + (0x49).to_bytes(2, sys.byteorder) + bytes(22))
l = S.socket(S.AF_INET, S.SOCK_STREAM)
l.bind(('${LOOPBACK}', ${RUNTIME_API_PORT}))
`;

/** argv and stdio for a launcher whose shell starts inside a new network namespace. */
export function isolatedLauncherCommand(support: NetworkSupport, script: string, procsFiles: readonly string[]): { file: string; args: string[] } {
  return {
    file: support.unshare as string,
    args: ['--net', '--', support.python as string, '-I', '-S', '-c', HELPER, script, `${RUNTIME_API_PORT},${LAMBDA_API_PORT}`, ...procsFiles],
  };
}

/** The listeners and egress of one environment's namespace. */
export class EnvironmentNetwork {
  readonly runtimeApi: ListenHandle;
  /** Bound to 127.0.0.1:XRAY_DAEMON_PORT inside: the segments of this environment's functions. */
  readonly xray: dgram.Socket;
  readonly #lambdaApi: ListenHandle;
  readonly #pid: number;
  readonly #support: NetworkSupport;
  #connector: Connector | undefined;
  /** Sockets bound (not listening) on the ports pasta must leave alone. */
  readonly #blockers: readonly ListenHandle[];
  #apiServer: net.Server | undefined;
  #pasta: ChildProcess | undefined;
  #closed = false;
  /** The host's listening ports when pasta last scanned them (see watchHostPorts). */
  #ports: ReadonlySet<string> | undefined;
  #target: { pid: number; support: NetworkSupport } | undefined;
  #restarting: Promise<void> | undefined;
  /** Whether pasta may be restarted now (no invocation in flight); set by the environment. */
  idle: () => boolean = () => true;

  private constructor(runtimeApi: ListenHandle, lambdaApi: ListenHandle, xray: dgram.Socket, blockers: readonly ListenHandle[], pid: number, support: NetworkSupport) {
    this.runtimeApi = runtimeApi;
    this.#lambdaApi = lambdaApi;
    this.xray = xray;
    this.#blockers = blockers;
    this.#pid = pid;
    this.#support = support;
  }

  /** X-Ray's variables for functions in this namespace (over the host daemon's). */
  get xrayEnv(): Record<string, string> {
    return { AWS_XRAY_DAEMON_ADDRESS: `${LOOPBACK}:${XRAY_DAEMON_PORT}`, _AWS_XRAY_DAEMON_ADDRESS: LOOPBACK, _AWS_XRAY_DAEMON_PORT: String(XRAY_DAEMON_PORT) };
  }

  /**
   * A TCP connection to 127.0.0.1:`port` of the namespace (a Telemetry API subscriber's listener),
   * made from inside it by the environment's connector, started on first use.
   */
  connect(port: number): Promise<net.Socket> {
    if (this.#closed) return Promise.reject(new Error('environment network closed'));
    this.#connector ??= new Connector(this.#pid, this.#support);
    return this.#connector.connect(port);
  }

  get runtimeApiAddress(): string {
    return `${LOOPBACK}:${RUNTIME_API_PORT}`;
  }

  get lambdaApiEndpoint(): string {
    return `http://${LOOPBACK}:${LAMBDA_API_PORT}`;
  }

  /**
   * Receives the two listening sockets from the launcher's helper, checks that the launcher really
   * is in a namespace of its own, and attaches pasta for egress.
   */
  static receive(child: ChildProcess, support: NetworkSupport, excludedPorts: () => Promise<readonly number[]>): Promise<EnvironmentNetwork> {
    return new Promise<EnvironmentNetwork>((resolve, reject) => {
      const listeners = new Map<number, ListenHandle>();
      const blockers: ListenHandle[] = [];
      let xray: dgram.Socket | undefined;
      let settled = false;
      const fail = (why: string) => {
        if (settled) return;
        settled = true;
        cleanup();
        for (const h of [...listeners.values(), ...blockers, ...(xray ? [xray] : [])]) (h as { close?: () => void }).close?.();
        reject(new Error(`environment network: ${why}`));
      };
      const onExit = (code: number | null, signal: string | null) => fail(`namespace helper exited (${signal ?? code})`);
      const onMessage = (msg: unknown, handle: unknown) => {
        const m = (msg ?? {}) as { port?: unknown; blocker?: unknown; ready?: unknown; xray?: unknown };
        if (typeof m.port === 'number' && handle) {
          listeners.set(m.port, handle as ListenHandle);
        } else if (typeof m.xray === 'number' && handle) {
          // Sent right after the two listeners.
          xray = handle as dgram.Socket;
          xray.on('error', () => {});
          xray.unref();
          if (listeners.size === 2) {
            // Ports pasta must not forward into the namespace: the API's (known once it listens).
            const block = support.mode === 'egress' ? excludedPorts() : Promise.resolve([]);
            void block.then((ports) => child.connected && child.send({ block: ports }), (e: Error) => fail(e.message));
          }
        } else if (typeof m.blocker === 'number' && handle) {
          blockers.push(handle as ListenHandle);
        } else if (m.ready === true && listeners.size === 2 && xray !== undefined) {
          settled = true;
          cleanup();
          // The helper closes its end of the channel before it execs the shell. Not disconnecting
          // from here: only the channel's own end-of-file lets the child emit 'close' later.
          const envNet = new EnvironmentNetwork(listeners.get(RUNTIME_API_PORT) as ListenHandle, listeners.get(LAMBDA_API_PORT) as ListenHandle, xray, blockers, child.pid as number, support);
          void (async () => {
            try {
              if (sameNamespace(child.pid)) throw new Error('the launcher is not in a network namespace of its own');
              if (support.mode === 'egress') await envNet.#attachPasta(child.pid as number, support);
              resolve(envNet);
            } catch (e) {
              envNet.close();
              reject(e as Error);
            }
          })();
        }
      };
      const cleanup = () => {
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  }

  /** Restarts pasta when the host listens on ports it did not see and the environment is idle. */
  refresh(ports: ReadonlySet<string>): void {
    if (this.#missing(ports) && this.idle() && !this.#closed) void this.#restartPasta(ports);
  }

  /** Serves the Lambda API inside the namespace: every accepted connection goes to `accept`. */
  serveLambdaApi(accept: (socket: net.Socket) => void): void {
    if (this.#apiServer !== undefined || this.#closed) return;
    const server = net.createServer({ noDelay: true }, accept);
    server.on('error', () => {});
    server.listen(this.#lambdaApi);
    server.unref();
    this.#apiServer = server;
  }

  /** Stops pasta and closes the Lambda API listener (the Runtime API closes with its server). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    egress.delete(this);
    this.#apiServer?.close();
    const closeHandle = (h: ListenHandle) => (h as { close?: () => void }).close?.();
    // Never listened on: close the bare handle.
    if (this.#apiServer === undefined) closeHandle(this.#lambdaApi);
    this.#blockers.forEach(closeHandle);
    this.xray.close();
    this.#connector?.close();
    if (this.#pasta?.pid !== undefined && this.#pasta.exitCode === null) {
      try {
        this.#pasta.kill('SIGKILL');
      } catch {
        // gone
      }
    }
  }

  /**
   * Settles once pasta forwards the host's listening ports as they are now (`fresh`: read now, for a
   * cold start; else as the watcher last saw them, for a warm one); undefined when it already does.
   */
  upToDate(fresh: boolean): Promise<void> | undefined {
    if (this.#restarting) return this.#restarting.then(() => this.upToDate(fresh));
    if (this.#target === undefined || this.#closed) return undefined;
    const ports = fresh ? hostListenPorts() : latestPorts;
    if (ports === undefined || !this.#missing(ports)) return undefined;
    return this.#restartPasta(ports);
  }

  /** Whether the host listens on a port pasta did not see (ports that went away need nothing). */
  #missing(ports: ReadonlySet<string>): boolean {
    const seen = this.#ports;
    if (seen === undefined) return false;
    for (const p of ports) if (!seen.has(p)) return true;
    return false;
  }

  /** pasta again, for ports bound on the host since it started. */
  #restartPasta(ports: ReadonlySet<string>): Promise<void> {
    this.#restarting ??= this.#doRestart(ports).finally(() => (this.#restarting = undefined));
    return this.#restarting;
  }

  async #doRestart(ports: ReadonlySet<string>): Promise<void> {
    const target = this.#target;
    if (this.#closed || target === undefined) return;
    try {
      const old = this.#pasta;
      if (old && old.exitCode === null && old.signalCode === null) {
        const gone = new Promise((r) => old.once('exit', r));
        old.kill('SIGKILL');
        await gone;
      }
      if (this.#closed) return;
      await this.#attachPasta(target.pid, target.support, ports);
    } catch {
      // The environment keeps its earlier reach; tried again on the next change.
    }
  }

  async #attachPasta(pid: number, support: NetworkSupport, ports: ReadonlySet<string> = hostListenPorts()): Promise<void> {
    this.#ports = ports;
    const nsFd = fs.openSync(`/proc/${pid}/ns/net`, 'r');
    // pasta drops its capabilities before joining the namespace, and then may not open another
    // process's /proc/<pid>/ns/net; it gets the namespace as an inherited descriptor instead.
    const args = [
      '--config-net', '--quiet', '--foreground', '--runas', '0', '--no-map-gw',
      // -T auto: every TCP port bound on the host, except those already bound in the namespace
      // (the environment's own and the blocked ones), rescanned while it runs.
      '-t', 'none', '-u', 'none', '-U', 'none', '-T', 'auto',
      '--netns', '/proc/self/fd/3',
    ];
    const file = support.pasta as string;
    // With the server gone, pasta must not linger: PDEATHSIG through setpriv.
    const argv = support.setpriv ? [support.setpriv, '--pdeathsig', 'KILL', '--', file, ...args] : [file, ...args];
    let child: ChildProcess;
    try {
      child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe', nsFd], env: {} });
    } finally {
      fs.closeSync(nsFd);
    }
    this.#pasta = child;
    child.on('error', () => {});
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      if (stderr.length < 4096) stderr += c.toString();
    });
    child.unref();
    (child.stderr as { unref?: () => void } | null)?.unref?.();
    // Ready once the namespace has its default route (pasta configures it last).
    const deadline = Date.now() + 5000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`pasta exited (${child.signalCode ?? child.exitCode}): ${stderr.replace(/Failed to send \d+ bytes to syslog\n?/g, '').trim()}`);
      }
      if (hasDefaultRoute(pid)) {
        // Only now may it be renewed (upToDate, watchHostPorts).
        this.#target = { pid, support };
        if (!this.#closed) egress.add(this);
        return;
      }
      if (Date.now() > deadline) throw new Error('pasta did not configure the namespace within 5 s');
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}

// Runs in an environment's namespace (under nsenter) for Telemetry deliveries: for each request
// `{"c":[id,port]}` it connects to 127.0.0.1:port and passes the connected socket back (Node.js's
// handle protocol, one handle at a time), or answers `{"c":id,"e":"<errno name>"}`.
const CONNECTOR = `
import _socket as S, errno, posix, sys
ipc = S.socket(S.AF_UNIX, S.SOCK_STREAM, 0, int(posix.environ[b'NODE_CHANNEL_FD']))
buf = b''
todo = []
acked = True
def read():
    global buf, acked
    r = ipc.recv(4096)
    if not r:
        sys.exit(0)
    buf += r
    *lines, buf = buf.split(b'\\n')
    for l in lines:
        if l.startswith(b'{"cmd":"NODE_HANDLE_ACK"'):
            acked = True
        elif l.startswith(b'{"c":['):
            todo.append(l[6:l.index(b']')].split(b','))
while True:
    while not todo or not acked:
        read()
    i, port = todo.pop(0)
    c = S.socket(S.AF_INET, S.SOCK_STREAM)
    c.settimeout(5)
    try:
        c.connect(('${LOOPBACK}', int(port)))
    except OSError as e:
        c.close()
        ipc.sendall(b'{"c":%d,"e":"%s"}\\n' % (int(i), errno.errorcode.get(e.errno, 'ETIMEDOUT').encode()))
        continue
    ipc.sendmsg([b'{"cmd":"NODE_HANDLE","type":"net.Socket","msg":{"c":%d}}\\n' % int(i)], [(S.SOL_SOCKET, S.SCM_RIGHTS, c.fileno().to_bytes(4, sys.byteorder))])
    c.close()
    acked = False
`;

/** One environment's connector process (CONNECTOR above); lives until the environment closes. */
class Connector {
  readonly #child: ChildProcess | undefined;
  readonly #pending = new Map<number, { resolve: (s: net.Socket) => void; reject: (e: Error) => void }>();
  #next = 0;
  #gone: string | undefined;

  constructor(pid: number, support: NetworkSupport) {
    if (support.nsenter === undefined || support.python === undefined) {
      this.#gone = 'nsenter and python3 are needed to reach a namespace';
      return;
    }
    let nsFd: number;
    try {
      nsFd = fs.openSync(`/proc/${pid}/ns/net`, 'r');
    } catch (e) {
      this.#gone = `the environment's namespace is gone (${(e as Error).message})`;
      return;
    }
    const argv = [support.nsenter, '--net=/proc/self/fd/3', '--', support.python, '-I', '-S', '-c', CONNECTOR];
    // With the server gone, the connector must not linger.
    if (support.setpriv) argv.unshift(support.setpriv, '--pdeathsig', 'KILL', '--');
    let child: ChildProcess;
    try {
      child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'ignore', 'ignore', nsFd, 'ipc'], env: {} });
    } finally {
      fs.closeSync(nsFd);
    }
    this.#child = child;
    child.on('error', (e) => this.#fail(e.message));
    child.on('exit', (code, signal) => this.#fail(`connector exited (${signal ?? code})`));
    child.on('message', (msg: unknown, handle: unknown) => {
      const m = (msg ?? {}) as { c?: unknown; e?: unknown };
      const waiter = typeof m.c === 'number' ? this.#pending.get(m.c) : undefined;
      if (waiter === undefined) return void (handle as net.Socket | undefined)?.destroy();
      this.#pending.delete(m.c as number);
      if (handle) waiter.resolve(handle as net.Socket);
      else waiter.reject(Object.assign(new Error(`connect ${String(m.e)}`), { code: String(m.e) }));
    });
    child.unref();
    (child.channel as { unref?: () => void } | null | undefined)?.unref?.();
  }

  connect(port: number): Promise<net.Socket> {
    const child = this.#child;
    if (this.#gone !== undefined || child === undefined || !child.connected) return Promise.reject(new Error(this.#gone ?? 'connector gone'));
    const id = this.#next++;
    return new Promise<net.Socket>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      child.send({ c: [id, port] });
    });
  }

  close(): void {
    this.#fail('environment network closed');
    try {
      this.#child?.kill('SIGKILL');
    } catch {
      // gone
    }
  }

  #fail(why: string): void {
    this.#gone ??= why;
    for (const w of this.#pending.values()) w.reject(new Error(why));
    this.#pending.clear();
  }
}

function hasDefaultRoute(pid: number): boolean {
  try {
    // Columns: Iface Destination Gateway ...; the default route has destination 00000000.
    return fs.readFileSync(`/proc/${pid}/net/route`, 'utf8').split('\n').slice(1).some((l) => l.split('\t')[1] === '00000000');
  } catch {
    return false;
  }
}

function sameNamespace(pid: number | undefined): boolean {
  if (pid === undefined) return true;
  try {
    return fs.statSync(`/proc/${pid}/ns/net`).ino === fs.statSync('/proc/self/ns/net').ino;
  } catch {
    return true;
  }
}

/** Environments with pasta attached, for watchHostPorts. */
const egress = new Set<EnvironmentNetwork>();
/** The host's listening ports as watchHostPorts last read them. */
let latestPorts: ReadonlySet<string> | undefined;

/**
 * pasta (0.0~git20230309) forwards the host ports that are bound when it starts, and does not scan
 * again. This polls the host's listening TCP ports while egress environments exist, and gives each
 * idle environment (and spare) whose pasta predates a change a new pasta, so a service started on
 * the host's loopback after an environment is reachable from it within about `intervalMs`.
 */
export function watchHostPorts(intervalMs: number): () => void {
  const timer = setInterval(() => {
    if (egress.size === 0) return;
    const ports = hostListenPorts();
    latestPorts = ports;
    for (const n of egress) n.refresh(ports);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The host's listening TCP ports (IPv4 and IPv6, hex as in /proc). The kernel lists
 * listening sockets first: reading stops at the first other one, so connections cost nothing.
 */
function hostListenPorts(): Set<string> {
  const ports = new Set<string>();
  const buf = Buffer.alloc(16384);
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let fd: number;
    try {
      fd = fs.openSync(table, 'r');
    } catch {
      continue;
    }
    try {
      let rest = '';
      for (let done = false; !done; ) {
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n <= 0) break;
        const lines = (rest + buf.toString('latin1', 0, n)).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          // "  sl  local_address rem_address   st ...": st 0A is LISTEN.
          const cols = line.trim().split(/\s+/, 4);
          if (cols[0] === 'sl') continue;
          if (cols[3] !== '0A') {
            done = true;
            break;
          }
          ports.add((cols[1] as string).slice(-4));
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return ports;
}
