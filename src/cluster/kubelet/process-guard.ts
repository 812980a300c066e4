// Keeps container processes from outliving the kubelet. Pods run in their own process groups (so a signal reaches a
// container's children), which also means nothing ends them when `kthena cluster` is SIGKILLed: they keep their
// ports, and a restarted cluster that hands the same IP to the same pod would crash-loop on EADDRINUSE against it.
// Two layers:
//  - a watchdog: one tiny `sh` per kubelet, in its own session, told each container's process group over a pipe.
//    The pipe's EOF means the kubelet is gone (however it died); the watchdog then sends SIGTERM to every group it
//    still knows, waits a short grace and SIGKILLs what is left.
//  - records: each container's pid and kernel start time, kept under the kubelet's work dir. A kubelet starting on
//    the same --data-dir SIGKILLs recorded groups still alive (the watchdog itself killed, or still in its grace)
//    before it runs any pod. The start time (and boot id) must match, so a recycled pid is never touched.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';

/** What the process runner tells about each container process it starts. */
export interface ProcessTracker {
  track(pid: number, label: string): void;
  untrack(pid: number): void;
}

export interface ProcessGuard extends ProcessTracker {
  /** Ends the watchdog (call after every container stopped); records of still-tracked processes stay. */
  close(): Promise<void>;
}

/** A process the kubelet started, as recorded on disk. */
export interface ProcessRecord {
  pid: number;
  /** Field 22 of /proc/PID/stat (clock ticks since boot) when it was started. */
  startTime: string;
  bootId: string;
  label: string;
}

// Reads "+PGID" / "-PGID" lines; on EOF ends the groups still registered: SIGTERM, up to $1 seconds, then SIGKILL.
const WATCHDOG_SCRIPT = `
trap '' INT HUP
groups=' '
while read -r line; do
  pg=\${line#?}
  case $line in
    +*) groups="$groups$pg " ;;
    -*) case $groups in *" $pg "*) groups="\${groups%% $pg *} \${groups#* $pg }" ;; esac ;;
  esac
done
[ -n "\${groups# }" ] || exit 0
for pg in $groups; do kill -TERM -$pg 2>/dev/null; done
n=$(($1 * 10))
while [ $n -gt 0 ]; do
  alive=
  for pg in $groups; do kill -0 -$pg 2>/dev/null && alive=1; done
  [ -n "$alive" ] || exit 0
  sleep 0.1
  n=$((n - 1))
done
for pg in $groups; do kill -KILL -$pg 2>/dev/null; done
exit 0
`;

/** The start time in a /proc/PID/stat line: field 22, counted after the command name (which may hold spaces). */
export function parseStartTime(stat: string): string | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  // Fields after ")" start at field 3 (state); starttime is field 22.
  const rest = stat.slice(close + 2).split(' ');
  return rest[19];
}

/** The state letter in a /proc/PID/stat line (Z: a zombie, already dead). */
export function parseState(stat: string): string | undefined {
  const close = stat.lastIndexOf(')');
  return close < 0 ? undefined : stat.slice(close + 2, close + 3);
}

/** Whether a record still names the process it was written for (same boot, same start time): never a recycled pid. */
export function isSameProcess(rec: ProcessRecord, stat: string | undefined, bootId: string | undefined): boolean {
  if (stat === undefined || !bootId || rec.bootId !== bootId) return false;
  return parseState(stat) !== 'Z' && parseStartTime(stat) === rec.startTime;
}

const readText = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};
const procStat = (pid: number) => readText(`/proc/${pid}/stat`);
const bootIdNow = () => readText('/proc/sys/kernel/random/boot_id')?.trim();

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
  } catch {
    return false;
  }
  // A group whose leader is a zombie nobody reaped holds no port; only its other members could.
  return parseState(procStat(pid) ?? '') !== 'Z' || otherMembers(pid);
}

function otherMembers(pgid: number): boolean {
  try {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d) || Number(d) === pgid) continue;
      const st = procStat(Number(d));
      if (!st) continue;
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid && f[0] !== 'Z') return true;
    }
  } catch {
    // no /proc: trust kill(0)
    return true;
  }
  return false;
}

/**
 * SIGKILLs the process groups recorded under `dir` by an earlier kubelet that still run (the same processes, by
 * start time), waits until they are gone (up to `waitMs`), and clears the records. Returns the labels it reaped.
 */
export async function reapRecorded(dir: string, waitMs = 5000): Promise<string[]> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const boot = bootIdNow();
  const reaped: { pid: number; label: string }[] = [];
  for (const n of names) {
    let rec: ProcessRecord | undefined;
    try {
      rec = JSON.parse(readFileSync(join(dir, n), 'utf8')) as ProcessRecord;
    } catch {
      rec = undefined;
    }
    if (rec && isSameProcess(rec, procStat(rec.pid), boot)) {
      try {
        process.kill(-rec.pid, 'SIGKILL');
        reaped.push({ pid: rec.pid, label: rec.label });
      } catch {
        // gone meanwhile
      }
    }
    rmSync(join(dir, n), { force: true });
  }
  const deadline = Date.now() + waitMs;
  while (reaped.some((r) => groupAlive(r.pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return reaped.map((r) => r.label);
}

function record(dir: string, pid: number, label: string): void {
  const stat = procStat(pid);
  const startTime = stat ? parseStartTime(stat) : undefined;
  const bootId = bootIdNow();
  // Without /proc the process cannot be recognised later, so no record: the watchdog alone guards it.
  if (!startTime || !bootId) return;
  const rec: ProcessRecord = { pid, startTime, bootId, label };
  writeFileSync(join(dir, `${pid}.json`), JSON.stringify(rec));
}

/**
 * Reaps what an earlier kubelet on `dir` left running, then starts the watchdog. `graceSeconds`: how long the
 * watchdog lets containers end on SIGTERM once the kubelet is gone.
 */
export async function startProcessGuard(dir: string, graceSeconds = 2): Promise<ProcessGuard & { reaped: string[] }> {
  mkdirSync(dir, { recursive: true });
  const reaped = await reapRecorded(dir);
  const dog = spawn(
    'sh',
    ['-c', WATCHDOG_SCRIPT, 'kthena-kubelet-watchdog', String(Math.max(0, Math.ceil(graceSeconds)))],
    {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    },
  );
  const stdin = dog.stdin as Writable;
  let open = true;
  // A dead watchdog (EPIPE) must not take the kubelet down; the records remain the fallback.
  stdin.on('error', () => {
    open = false;
  });
  const exited = new Promise<void>((r) => {
    dog.once('exit', () => r());
    dog.once('error', () => {
      open = false;
      r();
    });
  });
  if (dog.pid) record(dir, dog.pid, 'watchdog');
  // The kubelet must be able to exit without closing the guard first (its own exit is the signal).
  dog.unref();
  (stdin as unknown as { _handle?: { unref?: () => void } })._handle?.unref?.();
  const send = (line: string) => {
    if (open) stdin.write(`${line}\n`);
  };
  return {
    reaped,
    track(pid, label) {
      send(`+${pid}`);
      record(dir, pid, label);
    },
    untrack(pid) {
      send(`-${pid}`);
      rmSync(join(dir, `${pid}.json`), { force: true });
    },
    async close() {
      dog.ref(); // wait for it, even when nothing else keeps the event loop alive
      if (open) {
        open = false;
        stdin.end();
      }
      await exited;
      if (dog.pid) rmSync(join(dir, `${dog.pid}.json`), { force: true });
    },
  };
}
