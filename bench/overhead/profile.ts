// CPU profile of the router process under the overhead benchmark's load: starts the SSE upstream and the router with
// `node --cpu-prof`, runs `streams` streams at concurrency `c`, stops the router (the profile is written on exit) and
// prints self time by function and by module. Sampling profiles are statistical: compare shares, not absolute ms.
//   npx tsx bench/overhead/profile.ts [--concurrency 100] [--streams 2000] [--chunks 50] [--interval-ms 20] [--interval-us 200]
//     [--top 40] [--idle-s N (profile N seconds without load)] [--keep DIR]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad } from './load.js';
import { startRouterProcess, startUpstream } from './overhead.js';
import { cpuMicros } from './procs.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * Self time per function and per module (file or package), in microseconds, from a V8 .cpuprofile, counting only
 * samples inside [fromUs, toUs] (CLOCK_MONOTONIC µs, the clock of both V8's profile and process.hrtime on Linux).
 */
export function summarise(
  p: CpuProfile,
  fromUs = Number.NEGATIVE_INFINITY,
  toUs = Number.POSITIVE_INFINITY,
): {
  totalUs: number;
  byFunction: [string, number][];
  byModule: [string, number][];
} {
  const self = new Map<number, number>();
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i];
    if (t < fromUs || t > toUs) continue;
    const dt = p.timeDeltas[i + 1] ?? 0; // a sample's time is the gap to the next one
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt);
  }
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  let total = 0;
  for (const n of p.nodes) {
    const us = self.get(n.id) ?? 0;
    if (!us) continue;
    total += us;
    const url = n.callFrame.url;
    const m = moduleOf(url, n.callFrame.functionName);
    const name = `${n.callFrame.functionName || '(anonymous)'} ${m}:${n.callFrame.lineNumber + 1}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    mod.set(m, (mod.get(m) ?? 0) + us);
  }
  const sort = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { totalUs: total, byFunction: sort(fn), byModule: sort(mod) };
}

function moduleOf(url: string, fnName: string): string {
  if (!url) return fnName.startsWith('(') ? fnName : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url;
  const src = url.indexOf('/src/');
  return src >= 0 ? url.slice(src + 1) : url;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      concurrency: { type: 'string', default: '100' },
      streams: { type: 'string', default: '2000' },
      chunks: { type: 'string', default: '50' },
      'interval-ms': { type: 'string', default: '20' },
      top: { type: 'string', default: '40' },
      'interval-us': { type: 'string', default: '200' },
      keep: { type: 'string' },
      'idle-s': { type: 'string', default: '0' },
    },
  });
  const c = Number(values.concurrency);
  const streams = Number(values.streams);
  const idleS = Number(values['idle-s']);
  const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'kthena-profile-'));
  const profDir = join(dir, 'prof');
  const upstream = await startUpstream(Number(values.chunks), Number(values['interval-ms']));
  const router = await startRouterProcess(dir, upstream.port, [
    '--cpu-prof',
    `--cpu-prof-dir=${profDir}`,
    `--cpu-prof-interval=${values['interval-us']}`,
  ]);
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  let window: [number, number] = [0, 0];
  try {
    const body = JSON.stringify({ model: 'bench', stream: true, messages: [{ role: 'user', content: 'profile me' }] });
    const load = { url: router.url, path: '/v1/chat/completions', body };
    await runLoad({ ...load, concurrency: Math.min(c, 50), streams: Math.min(c, 50) });
    const pid = router.child.proc.pid!;
    const cpu0 = cpuMicros(pid);
    const t0 = nowUs();
    if (idleS > 0) {
      // No load: what the router costs while idle (scrapes, config polling, timers).
      await new Promise((r) => setTimeout(r, idleS * 1000));
      window = [t0, nowUs()];
      const cpu = cpuMicros(pid) - cpu0;
      process.stdout.write(`idle ${idleS} s: router CPU ${Math.round(cpu / idleS / 1000)} ms per second\n`);
    } else {
      const r = await runLoad({ ...load, concurrency: c, streams });
      window = [t0, nowUs()];
      const cpu = cpuMicros(pid) - cpu0;
      process.stdout.write(
        `c=${c} streams=${streams} errors=${r.errors} wall=${Math.round(r.wallMs)} ms router CPU ${Math.round(cpu / streams)} µs/stream\n`,
      );
    }
  } finally {
    await router.child.stop();
    await upstream.child.stop();
  }
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile written in ${profDir}`);
  const s = summarise(JSON.parse(readFileSync(join(profDir, file), 'utf8')) as CpuProfile, ...window);
  const pct = (us: number) => `${((100 * us) / s.totalUs).toFixed(1).padStart(5)}%`;
  const top = Number(values.top);
  process.stdout.write(`\nself time by module (load window only, ${Math.round(s.totalUs / 1000)} ms sampled)\n`);
  for (const [m, us] of s.byModule.slice(0, 25)) process.stdout.write(`${pct(us)}  ${m}\n`);
  process.stdout.write('\nself time by function\n');
  for (const [f, us] of s.byFunction.slice(0, top)) process.stdout.write(`${pct(us)}  ${f}\n`);
  if (values.keep) process.stdout.write(`\nprofile: ${join(profDir, file)}\n`);
  else rmSync(dir, { recursive: true, force: true });
}

if (process.argv[1]?.endsWith('profile.ts')) await main();
