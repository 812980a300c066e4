// Child processes for the benchmark and their CPU time from /proc (utime + stime of a process and its children).
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux

function statOf(pid: number): { ppid: number; cpuTicks: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), cpuTicks: Number(f[11]) + Number(f[12]) };
  } catch {
    return undefined;
  }
}

/** CPU microseconds used so far by `pid` and its live descendants. */
export function cpuMicros(pid: number): number {
  const all = new Map<number, { ppid: number; cpuTicks: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = statOf(Number(name));
    if (st) all.set(Number(name), st);
  }
  let total = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    total += all.get(p)?.cpuTicks ?? 0;
    for (const [child, st] of all) if (st.ppid === p) stack.push(child);
  }
  return total * TICK_US;
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
