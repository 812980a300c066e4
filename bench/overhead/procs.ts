// Child processes for the benchmark and their CPU time and memory from /proc (a process and its children).
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux

const PAGE_BYTES = 4096; // the kernel's page size on the x86-64 and arm64 hosts we run on

interface ProcStat {
  ppid: number;
  cpuTicks: number;
  rssPages: number;
}

function statOf(pid: number): ProcStat | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), cpuTicks: Number(f[11]) + Number(f[12]), rssPages: Number(f[21]) };
  } catch {
    return undefined;
  }
}

/** A sum over `pid` and its live descendants (a tsx wrapper, nginx's workers). */
function treeSum(pid: number, of: (st: ProcStat) => number): number {
  const all = new Map<number, ProcStat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = statOf(Number(name));
    if (st) all.set(Number(name), st);
  }
  let total = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop() as number;
    const st = all.get(p);
    if (st) total += of(st);
    for (const [child, c] of all) if (c.ppid === p) stack.push(child);
  }
  return total;
}

/** CPU microseconds used so far by `pid` and its live descendants. */
export function cpuMicros(pid: number): number {
  return treeSum(pid, (st) => st.cpuTicks) * TICK_US;
}

/** Resident memory of `pid` and its live descendants, in MB (one decimal). */
export function rssMb(pid: number): number {
  return Math.round((treeSum(pid, (st) => st.rssPages) * PAGE_BYTES) / 1e5) / 10;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Child {
  proc: ChildProcess;
  /** The last 4 000 characters the process wrote to stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
}

/** Spawns a process in its own group; stop() signals exactly that group. */
export function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, ...env } });
  let stderr = '';
  const keep = (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  };
  proc.stderr?.on('data', keep);
  proc.stdout?.on('data', keep);
  proc.on('exit', (code) => {
    if (code && code !== 0 && code !== 143) process.stderr.write(`${cmd} exited ${code}: ${stderr}\n`);
  });
  return {
    proc,
    output: () => stderr,
    stop: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        try {
          process.kill(-proc.pid!, 'SIGTERM');
        } catch {
          resolve();
        }
        setTimeout(() => {
          try {
            process.kill(-proc.pid!, 'SIGKILL');
          } catch {
            // already gone
          }
        }, 3000).unref();
      }),
  };
}

export async function waitHttp(url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
