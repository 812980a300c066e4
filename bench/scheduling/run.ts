// Orchestration: for each strategy and run, fresh engine processes (cold caches) and a fresh router process, then
// the load, then everything stopped. Returns per-request results converted to simulated time.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { getProfile } from '../../src/engine/profiles.js';
import { type RequestResult, runLoad } from './loadgen.js';
import { MODEL, type Scenario } from './scenarios.js';

const here = dirname(fileURLToPath(import.meta.url));

function startChild(file: string, arg: object): Promise<{ child: ChildProcess; info: Record<string, unknown> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, file), JSON.stringify(arg)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => {
      try {
        resolve({ child, info: JSON.parse(line) as Record<string, unknown> });
      } catch (e) {
        reject(e);
      }
    });
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code} before it was ready`)));
  });
}

function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null) return Promise.resolve();
  return new Promise((r) => {
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    c.once('exit', () => {
      clearTimeout(t);
      r();
    });
    c.kill('SIGTERM');
  });
}

export interface RunOutcome {
  results: RequestResult[];
  /** simulated seconds */
  durationSec: number;
}

export interface EngineSet {
  engines: { url: string; port: number; kvEventsPort: number; oracleUrl: string }[];
  close(): Promise<void>;
}

/** Engine processes for a whole scenario; runs start from cold caches via /reset_prefix_cache. */
export async function startEngineSet(sc: Scenario): Promise<EngineSet> {
  const started = await Promise.allSettled(
    Array.from({ length: sc.replicas }, (_, i) =>
      startChild('engine-host.ts', {
        model: MODEL,
        profile: sc.profile,
        speedup: sc.speedup,
        numGpuBlocks: sc.numGpuBlocks,
        seed: i,
      }),
    ),
  );
  const children = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value.child] : []));
  const close = async () => {
    await Promise.all(children.map(stopChild));
  };
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await close();
    throw (failed as PromiseRejectedResult).reason;
  }
  const engines = started.map((s) => {
    const info = (s as PromiseFulfilledResult<{ info: Record<string, unknown> }>).value.info;
    const url = String(info.url);
    return {
      url,
      port: Number(new URL(url).port),
      kvEventsPort: Number(info.kvEventsPort),
      oracleUrl: String(info.oracleUrl),
    };
  });
  return { engines, close };
}

async function resetCaches(set: EngineSet): Promise<void> {
  for (const e of set.engines) {
    for (let i = 0; i < 100; i++) {
      const res = await request(`${e.url}/reset_prefix_cache`, { method: 'POST' });
      await res.body.dump();
      if (res.statusCode === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * Diagnostics (KTHENA_BENCH_TRACE=path-prefix): polls the router's /debug/scheduler every second and writes every
 * scheduling decision it saw (with each candidate's predicted components) as JSON lines, plus the final state.
 */
function startTrace(prefix: string, debugPort: number): { stop(): Promise<void> } {
  const seen = new Set<string>();
  const lines: string[] = [];
  let last: unknown;
  const poll = async () => {
    const res = await request(`http://127.0.0.1:${debugPort}/debug/scheduler`);
    const st = (await res.body.json()) as {
      plugins?: { state?: Record<string, { recentDecisions?: { request: string }[] } | null> };
    };
    last = st;
    for (const p of Object.values(st.plugins?.state ?? {}))
      for (const d of p?.recentDecisions ?? [])
        if (!seen.has(d.request)) {
          seen.add(d.request);
          lines.push(JSON.stringify({ t: performance.now(), ...d }));
        }
  };
  const timer = setInterval(() => void poll().catch(() => {}), 250);
  return {
    async stop() {
      clearInterval(timer);
      await poll().catch(() => {});
      await writeFile(`${prefix}-decisions.jsonl`, `${lines.join('\n')}\n`);
      await writeFile(`${prefix}-state.json`, JSON.stringify(last, null, 2));
    },
  };
}

export async function runOnce(
  sc: Scenario,
  set: EngineSet,
  routerConfig: string,
  onProgress?: (done: number, total: number) => void,
  trace = process.env.KTHENA_BENCH_TRACE,
): Promise<RunOutcome> {
  const dir = await mkdtemp(join(tmpdir(), 'kthena-bench-'));
  let router: ChildProcess | undefined;
  try {
    await resetCaches(set);
    let yaml = `apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ModelServer
metadata: {name: sim, namespace: default}
spec:
  model: ${MODEL}
  inferenceEngine: vLLM
  workloadSelector: {matchLabels: {app: sim}}
  workloadPort: {port: 8000}
---
apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ModelRoute
metadata: {name: sim, namespace: default}
spec:
  modelName: ${MODEL}
  rules:
  - name: default
    targetModels:
    - modelServerName: sim
`;
    const oracles: Record<string, string> = {};
    set.engines.forEach((e, i) => {
      oracles[`http://127.0.0.1:${e.port}`] = e.oracleUrl;
      yaml += `---
apiVersion: router.kthena.io/v1alpha1
kind: EngineEndpoint
metadata:
  name: engine-${i}
  namespace: default
  labels: {app: sim, kthena.io/kv-events-port: "${e.kvEventsPort}"}
spec:
  address: 127.0.0.1
  port: ${e.port}
`;
    });
    await writeFile(join(dir, 'sim.yaml'), yaml);
    const r = await startChild('router-host.ts', {
      configDir: dir,
      routerConfig,
      oracles,
      profile: sc.profile,
      blockSize: getProfile(sc.profile).blockSize,
      debug: Boolean(trace),
    });
    router = r.child;
    const tracer = trace ? startTrace(trace, Number(r.info.debugPort)) : undefined;
    const load = await runLoad({
      url: String(r.info.url),
      model: MODEL,
      requests: sc.requests,
      gaps: sc.gapsSim.map((g) => g / sc.speedup),
      maxConcurrency: sc.maxConcurrency,
      onProgress,
    });
    await tracer?.stop();
    const s = sc.speedup;
    const results = load.results.map((x) => ({
      ...x,
      ttft: x.ttft * s,
      e2e: x.e2e * s,
      itls: x.itls.map((v) => v * s),
    }));
    return { results, durationSec: load.wallSec * s };
  } finally {
    if (router) await stopChild(router);
    await rm(dir, { recursive: true, force: true });
  }
}
