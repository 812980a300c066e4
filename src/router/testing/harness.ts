// Test harness: writes a config dir, starts a router on ephemeral ports, and offers small HTTP helpers.
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { request } from 'undici';
import { type RouterOptions, type RunningRouter, startRouter } from '../router.js';
import type { FakeEngine } from './fake-engine.js';

export interface Harness {
  router: RunningRouter;
  dir: string;
  write(name: string, yaml: string): Promise<void>;
  /** Reloads the config dir now and fails on rejection. */
  reload(): Promise<void>;
  post(
    path: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; text: string; json: any; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

export function endpointYaml(
  name: string,
  eng: FakeEngine | { port: number },
  labels: Record<string, string>,
  ns = 'default',
): string {
  return `apiVersion: router.kthena.io/v1alpha1
kind: EngineEndpoint
metadata:
  name: ${name}
  namespace: ${ns}
  labels: ${JSON.stringify(labels)}
spec:
  address: 127.0.0.1
  port: ${eng.port}
`;
}

export async function startHarness(files: Record<string, string>, opts: Partial<RouterOptions> = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'kthena-router-test-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const router = await startRouter({
    host: '127.0.0.1',
    port: 0,
    metricsPort: 0,
    debugPort: 0,
    configDir: dir,
    configPollIntervalMs: 0,
    configSettleMs: 10,
    scrapeIntervalMs: 60_000,
    drainTimeoutMs: 2000,
    accessLog: { enabled: false, format: 'json', output: 'stdout' },
    logger: pino({ level: 'silent' }),
    ...opts,
  });
  await router.scraper.firstPass();
  const h: Harness = {
    router,
    dir,
    // Atomic replace, like a ConfigMap volume update or `kubectl cp` to a temp name then mv.
    async write(name, yaml) {
      const tmp = join(dir, `.${name}.tmp`);
      await writeFile(tmp, yaml);
      await rename(tmp, join(dir, name));
    },
    async reload() {
      const r = await router.files!.reload();
      if (!r.ok) throw new Error(r.errors.join('\n'));
    },
    async post(path, body, headers = {}) {
      const res = await request(`${router.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.body.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.statusCode, text, json, headers: res.headers };
    },
    async close() {
      await router.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return h;
}

export function routeYaml(name: string, spec: string, ns = 'default'): string {
  return `apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ModelRoute
metadata: {name: ${name}, namespace: ${ns}}
spec:
${spec}`;
}

export function serverYaml(name: string, spec: string, ns = 'default'): string {
  return `apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ModelServer
metadata: {name: ${name}, namespace: ${ns}}
spec:
${spec}`;
}

/** Sum of samples named `name` whose labels include `labels` (from the router's /metrics). */
export async function metricSum(
  router: RunningRouter,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const { parsePrometheusText } = await import('../../promtext/index.js');
  const text = await router.metrics.registry.metrics();
  let sum = 0;
  for (const s of parsePrometheusText(text, (n) => n === name)) {
    if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}
