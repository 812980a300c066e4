// Starts one container process in its own process group (so SIGTERM/SIGKILL reach its children too), with its
// output appended to a log file, and reports how it ended.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ProcessTracker } from './process-guard.js';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all. */
  error?: string;
}

export interface ContainerProcess {
  pid: number | undefined;
  exited: Promise<ProcessExit>;
  /** Sends a signal to the whole process group; a no-op once the process is gone. */
  signal(sig: NodeJS.Signals): void;
  readonly running: boolean;
}

export interface StartOptions {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  logPath: string;
  /** Start the log file afresh instead of appending (a new pod that reuses an old pod's name). */
  truncate?: boolean;
  /** Told the process group's id while it runs, so it cannot outlive the kubelet (see process-guard.ts). */
  tracker?: ProcessTracker;
  /** Names the process in the tracker's records, e.g. "default/pod-a/engine". */
  label?: string;
}

export function startProcess(o: StartOptions): ContainerProcess {
  mkdirSync(dirname(o.logPath), { recursive: true });
  mkdirSync(o.cwd, { recursive: true });
  const fd = openSync(o.logPath, o.truncate ? 'w' : 'a');
  let running = true;
  let resolveExit!: (e: ProcessExit) => void;
  const exited = new Promise<ProcessExit>((r) => {
    resolveExit = r;
  });
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(o.file, o.args, { cwd: o.cwd, env: o.env, stdio: ['ignore', fd, fd], detached: true });
  } catch (err) {
    closeSync(fd);
    running = false;
    resolveExit({ code: 128, signal: null, error: err instanceof Error ? err.message : String(err) });
    return { pid: undefined, exited, signal: () => {}, running: false };
  }
  closeSync(fd);
  const pid = child.pid;
  if (pid !== undefined) o.tracker?.track(pid, o.label ?? o.file);
  const ended = () => {
    if (running && pid !== undefined) o.tracker?.untrack(pid);
    running = false;
  };
  child.once('error', (err) => {
    ended();
    resolveExit({ code: 128, signal: null, error: err.message });
  });
  child.once('exit', (code, signal) => {
    ended();
    resolveExit({ code, signal });
  });
  return {
    pid: child.pid,
    exited,
    get running() {
      return running;
    },
    signal(sig) {
      if (!running || child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        try {
          child.kill(sig);
        } catch {
          // already gone
        }
      }
    },
  };
}

/** Exit code as a container runtime reports it: a signal-killed process is 128 + signal number. */
export function exitCodeOf(e: ProcessExit): number {
  if (e.code !== null) return e.code;
  const n: Record<string, number> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGABRT: 6,
    SIGKILL: 9,
    SIGSEGV: 11,
    SIGTERM: 15,
  };
  return 128 + (e.signal ? (n[e.signal] ?? 0) : 0);
}
