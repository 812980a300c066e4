// Fairness benchmark: a heavy tenant (many concurrent long requests) and a light tenant (few short ones) share one
// model behind the router's fairness queue; the same run with FIFO order (token weight and aging 0, so the score is
// always 0 and ties go to arrival) is the baseline. Reports per-tenant TTFT and Jain's fairness index side by side.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { request } from 'undici';
import { startEngine } from '../../src/engine/index.js';
import { hashApiKey } from '../../src/router/policy/api-keys.js';
import { startRouter } from '../../src/router/router.js';
import { groupedBarChart } from '../charts.js';

export interface FairnessBenchOptions {
  seconds: number;
  heavyConcurrency: number;
  lightConcurrency: number;
  maxConcurrent: number;
  speedup: number;
  json: boolean;
}

interface TenantResult {
  tenant: string;
  requests: number;
  errors: number;
  ttftP50Ms: number;
  ttftP90Ms: number;
  unloadedTtftMs: number;
  outputTokensPerSec: number;
  weightedServicePerSec: number;
}

interface ModeResult {
  mode: 'fifo' | 'fair';
  tenants: TenantResult[];
  /**
   * Jain's index over the tenants' weighted service rate (input + 2 × output tokens per second — the quantity the
   * fair queue equalises, as in VTC-style LLM fairness): 1 = equal service, 1/n = one tenant gets everything.
   */
  jain: number;
}

const pct = (xs: number[], p: number) => {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

export function jainIndex(xs: number[]): number {
  const sum = xs.reduce((a, b) => a + b, 0);
  const sq = xs.reduce((a, b) => a + b * b, 0);
  return sq === 0 ? 1 : (sum * sum) / (xs.length * sq);
}

async function runMode(mode: 'fifo' | 'fair', o: FairnessBenchOptions): Promise<ModeResult> {
  const engine = await startEngine({ model: 'bench-model', port: 0, host: '127.0.0.1', speedup: o.speedup });
  const dir = await mkdtemp(join(tmpdir(), 'kthena-bench-fairness-'));
  const keys = join(dir, 'keys.yaml');
  await writeFile(
    keys,
    `keys:\n- {sha256: ${hashApiKey('heavy-key')}, user: heavy}\n- {sha256: ${hashApiKey('light-key')}, user: light}\n`,
  );
  const cfg = join(dir, 'cfg');
  await mkdir(cfg);
  await writeFile(
    join(cfg, 'all.yaml'),
    `apiVersion: router.kthena.io/v1alpha1
kind: EngineEndpoint
metadata: {name: e0, namespace: default, labels: {app: b}}
spec: {address: 127.0.0.1, port: ${engine.port}}
---
apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ModelServer
metadata: {name: b, namespace: default}
spec: {model: bench-model, inferenceEngine: vLLM, workloadSelector: {matchLabels: {app: b}}, workloadPort: {port: 8000}}
---
apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ModelRoute
metadata: {name: b, namespace: default}
spec: {modelName: bench, rules: [{targetModels: [{modelServerName: b}]}]}
`,
  );
  const env: NodeJS.ProcessEnv = {
    ENABLE_FAIRNESS_SCHEDULING: 'true',
    FAIRNESS_MAX_CONCURRENT: String(o.maxConcurrent),
    FAIRNESS_QUEUE_TIMEOUT: '600s',
    FAIRNESS_WINDOW_SIZE: '1m',
    ...(mode === 'fifo' ? { FAIRNESS_PRIORITY_TOKEN_WEIGHT: '0', FAIRNESS_AGING_PER_SECOND: '0' } : {}),
  };
  const router = await startRouter({
    host: '127.0.0.1',
    port: 0,
    metricsPort: 0,
    debugPort: -1,
    configDir: cfg,
    configPollIntervalMs: 0,
    routerConfigText: `auth:\n  apiKeys: {file: ${keys}}\n`,
    accessLog: { enabled: false, format: 'json', output: 'stdout' },
    logger: pino({ level: 'silent' }),
    env,
  });
  await router.scraper.firstPass();
  const ttft: Record<string, number[]> = { heavy: [], light: [] };
  const tokens: Record<string, number> = { heavy: 0, light: 0 };
  const errors: Record<string, number> = { heavy: 0, light: 0 };
  const service: Record<string, number> = { heavy: 0, light: 0 };
  let deadline = Number.POSITIVE_INFINITY;
  const one = async (tenant: 'heavy' | 'light') => {
    const body =
      tenant === 'heavy'
        ? { model: 'bench', prompt: 'h'.repeat(4000), max_tokens: 256, stream: true, ignore_eos: true }
        : { model: 'bench', prompt: 'l'.repeat(200), max_tokens: 16, stream: true, ignore_eos: true };
    const t0 = performance.now();
    try {
      const r = await request(`${router.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant}-key` },
        body: JSON.stringify(body),
      });
      let first = true;
      let text = '';
      for await (const chunk of r.body) {
        if (first) {
          ttft[tenant].push(performance.now() - t0);
          first = false;
        }
        text += chunk.toString();
      }
      if (r.statusCode !== 200) errors[tenant]++;
      else {
        const out = (text.match(/"text"/g) ?? []).length;
        tokens[tenant] += out;
        service[tenant] += Math.ceil(body.prompt.length / 4) + 2 * out;
      }
    } catch {
      errors[tenant]++;
    }
  };
  const loop = async (tenant: 'heavy' | 'light') => {
    while (performance.now() < deadline) await one(tenant);
  };
  // Unloaded TTFT: three sequential requests per tenant on the idle router and engine (medians).
  const unloaded: Record<string, number> = {};
  for (const t of ['heavy', 'light'] as const) {
    for (let i = 0; i < 3; i++) await one(t);
    unloaded[t] = pct(ttft[t], 50);
    ttft[t] = [];
    tokens[t] = 0;
    service[t] = 0;
  }
  deadline = performance.now() + o.seconds * 1000;
  const started = performance.now();
  await Promise.all([
    ...Array.from({ length: o.heavyConcurrency }, () => loop('heavy')),
    ...Array.from({ length: o.lightConcurrency }, () => loop('light')),
  ]);
  const elapsed = (performance.now() - started) / 1000;
  await router.close();
  await engine.close();
  await rm(dir, { recursive: true, force: true });
  const tenants = (['heavy', 'light'] as const).map((t) => ({
    tenant: t,
    requests: ttft[t].length,
    errors: errors[t],
    ttftP50Ms: Math.round(pct(ttft[t], 50)),
    ttftP90Ms: Math.round(pct(ttft[t], 90)),
    unloadedTtftMs: Math.round(unloaded[t]),
    outputTokensPerSec: Math.round(tokens[t] / elapsed),
    weightedServicePerSec: Math.round(service[t] / elapsed),
  }));
  return { mode, tenants, jain: jainIndex(tenants.map((t) => t.weightedServicePerSec)) };
}

/** TTFT p50 and p90 per tenant under each ordering: what fair scheduling buys the light tenant. */
export function fairnessSvg(results: readonly Pick<ModeResult, 'mode' | 'tenants'>[]): string {
  const tenants = [...new Set(results.flatMap((r) => r.tenants.map((t) => t.tenant)))];
  const value = (mode: string, tenant: string, k: 'ttftP50Ms' | 'ttftP90Ms') =>
    results.find((r) => r.mode === mode)?.tenants.find((t) => t.tenant === tenant)?.[k];
  return groupedBarChart({
    title: 'Fairness: time to first token per tenant, FIFO vs fair queue',
    xLabel: 'queue order',
    yLabel: 'TTFT (ms)',
    groups: results.map((r) => r.mode),
    series: tenants.flatMap((t) => [
      { name: `${t} p50`, values: results.map((r) => value(r.mode, t, 'ttftP50Ms')) },
      { name: `${t} p90`, values: results.map((r) => value(r.mode, t, 'ttftP90Ms')) },
    ]),
  });
}

export async function fairnessCommand(o: FairnessBenchOptions): Promise<void> {
  const results = [await runMode('fifo', o), await runMode('fair', o)];
  const lines = [
    `fairness: heavy tenant ${o.heavyConcurrency} concurrent × 4000-char prompt / 256 tokens, light tenant ${o.lightConcurrency} × 200 chars / 16 tokens, FAIRNESS_MAX_CONCURRENT=${o.maxConcurrent}, ${o.seconds}s per mode, engine-sim speedup ${o.speedup}; ${cpus().length} cores, Node ${process.version}, 1 run`,
    '',
    '| mode | tenant | requests | unloaded TTFT (ms) | TTFT p50 (ms) | TTFT p90 (ms) | slowdown | output tok/s | weighted service/s | Jain |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results)
    for (const t of r.tenants)
      lines.push(
        `| ${r.mode} | ${t.tenant} | ${t.requests}${t.errors ? ` (${t.errors} errors)` : ''} | ${t.unloadedTtftMs} | ${t.ttftP50Ms} | ${t.ttftP90Ms} | ${(t.ttftP50Ms / Math.max(1, t.unloadedTtftMs)).toFixed(1)}× | ${t.outputTokensPerSec} | ${t.weightedServicePerSec} | ${t.tenant === 'heavy' ? r.jain.toFixed(3) : ''} |`,
      );
  const fifoLight = results[0].tenants[1].ttftP50Ms;
  const fairLight = results[1].tenants[1].ttftP50Ms;
  lines.push('', `light tenant TTFT p50, FIFO / fair: ${(fifoLight / Math.max(1, fairLight)).toFixed(1)}×`);
  process.stdout.write(`${lines.join('\n')}\n`);
  const out = join('bench', 'results', `fairness-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await mkdir(join('bench', 'results'), { recursive: true });
  await writeFile(out, JSON.stringify({ options: o, cores: cpus().length, node: process.version, results }, null, 2));
  await writeFile(out.replace(/\.json$/, '.svg'), fairnessSvg(results));
  process.stdout.write(`results: ${out} (and .svg)\n`);
  if (o.json) process.stdout.write(`${JSON.stringify({ results })}\n`);
}
