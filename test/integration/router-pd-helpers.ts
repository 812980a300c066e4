// Prefill/decode fixtures for router tests: simulated engines started with --role prefill|decode (in this process,
// or as a `kthena engine-sim` child process), declared as EngineEndpoints with group/role labels, a PD ModelServer and
// route, and the router's JSON access log in a file.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { type RunningEngine, startEngine } from '../../src/engine/index.js';
import type { EngineRequest } from '../../src/engine/request.js';
import type { RouterOptions } from '../../src/router/router.js';
import type { PluginDefinition } from '../../src/router/scheduler/plugin.js';
import { endpointYaml, type Harness, routeYaml, serverYaml, startHarness } from '../../src/router/testing/harness.js';
import { waitFor } from '../../src/router/testing/wait.js';

export const MODEL = 'pd-model';

export interface PodSpec {
  name: string;
  group: string;
  role: 'prefill' | 'decode';
  /** Score for the test's `prefer` plugin (higher is tried first). */
  prefer?: number;
  /** Use this address:port instead of starting an engine (a fake pod, a child process). */
  port?: number;
  speedup?: number;
}

export interface PdPod {
  spec: PodSpec;
  port: number;
  engine?: RunningEngine;
  /** Remote-prefill tokens of every request the engine queued (decode side: what arrived over "the wire"). */
  remoteTokens: number[];
}

/** Deterministic preference from the `prefer` label, so tests choose which pod is tried first. */
export const preferPlugin: PluginDefinition = {
  name: 'prefer',
  roles: ['score'],
  create: () => ({ name: 'prefer', score: (_c, eps) => eps.map((e) => Number(e.state.labels.prefer ?? 0)) }),
};

export const ROUTER_CONFIG = `scheduler:
  plugins:
    Filter: {enabled: [least-request]}
    Score:
      enabled:
      - {name: least-request, weight: 1}
      - {name: prefix-cache, weight: 1}
      - {name: prefer, weight: 1000}
`;

export async function startPod(spec: PodSpec, engine: 'vllm' | 'sglang'): Promise<PdPod> {
  if (spec.port !== undefined) return { spec, port: spec.port, remoteTokens: [] };
  const e = await startEngine({
    model: MODEL,
    host: '127.0.0.1',
    enableAdmin: true, // tests inject faults through /admin/faults
    engine,
    role: spec.role,
    speedup: spec.speedup ?? 20,
    seed: 1,
  });
  const pod: PdPod = { spec, port: e.port, engine: e, remoteTokens: [] };
  const loop = e.engine.loop;
  const submit = loop.submit.bind(loop);
  loop.submit = (req: EngineRequest) => {
    pod.remoteTokens.push(req.remote?.numExternalTokens ?? 0);
    submit(req);
  };
  return pod;
}

export function pdServer(name: string, o: { engine?: 'vLLM' | 'SGLang'; connector?: string; timeout?: string } = {}) {
  return serverYaml(
    name,
    `  model: ${MODEL}
  inferenceEngine: ${o.engine ?? 'vLLM'}
${o.connector ? `  kvConnector: {type: ${o.connector}}\n` : ''}  workloadSelector:
    matchLabels: {app: ${name}}
    pdGroup:
      groupKey: group
      prefillLabels: {role: prefill}
      decodeLabels: {role: decode}
  workloadPort: {port: 1}
${o.timeout ? `  trafficPolicy: {timeout: ${o.timeout}}\n` : ''}`,
  );
}

export function pdRoute(model: string, server: string, extra = ''): string {
  return routeYaml(
    model,
    `  modelName: ${model}\n  rules:\n  - targetModels: [{modelServerName: ${server}}]\n${extra}`,
  );
}

export function podEndpoints(server: string, pods: PdPod[]): string {
  return pods
    .map(
      (p) =>
        `---\n${endpointYaml(
          p.spec.name,
          { port: p.port },
          {
            app: server,
            group: p.spec.group,
            role: p.spec.role,
            prefer: String(p.spec.prefer ?? 0),
          },
        )}`,
    )
    .join('');
}

export interface PdRig {
  h: Harness;
  client: OpenAI;
  logFile: string;
  /** Access-log entries written so far (waits until at least `n`). */
  log(n: number): Promise<any[]>;
  close(): Promise<void>;
}

export async function startRig(files: Record<string, string>, opts: Partial<RouterOptions> = {}): Promise<PdRig> {
  const dir = await mkdtemp(join(tmpdir(), 'kthena-pd-log-'));
  const logFile = join(dir, 'access.log');
  const h = await startHarness(files, {
    routerConfigText: ROUTER_CONFIG,
    extraPlugins: [preferPlugin],
    accessLog: { enabled: true, format: 'json', output: logFile },
    ...opts,
  });
  const client = new OpenAI({ baseURL: `${h.router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  return {
    h,
    client,
    logFile,
    async log(n) {
      const lines = await waitFor(async () => {
        const text = await readFile(logFile, 'utf8').catch(() => '');
        const l = text.split('\n').filter(Boolean);
        return l.length >= n ? l : undefined;
      }, `${n} access-log lines`);
      return lines.map((l) => JSON.parse(l));
    },
    async close() {
      await h.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `kthena engine-sim` as a child process; resolves with its port once it listens. */
export async function spawnEngineSim(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'engine-sim', '--port', '0', '--host', '127.0.0.1', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.setEncoding('utf8');
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: string) => {
      out += d;
      const m = /port=(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`engine-sim exited ${code}: ${out}`)));
  });
  return { child, port };
}

export const longPrompt = (tag: string, words = 300) =>
  `${tag} ${Array.from({ length: words }, (_, i) => `word${i}`).join(' ')}`;
