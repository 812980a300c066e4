// Boots an example from examples/router with real simulated engines behind it: one engine set per ModelServer,
// labelled with the server's selector, declared as EngineEndpoints next to the example's manifests.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI from 'openai';
import { parseAllDocuments } from 'yaml';
import { type RunningEngine, startEngines } from '../../src/engine/index.js';
import type { RouterOptions } from '../../src/router/router.js';
import { endpointYaml, type Harness, startHarness } from '../../src/router/testing/harness.js';

export const EXAMPLES = join(import.meta.dirname, '../../examples/router');

export interface Booted {
  h: Harness;
  client: OpenAI;
  engines: Map<string, RunningEngine[]>;
  docs: any[];
  close(): Promise<void>;
}

export async function bootExample(
  file: string,
  opts: { replicas?: number; patch?: (text: string) => string; router?: Partial<RouterOptions> } = {},
): Promise<Booted> {
  let text = await readFile(join(EXAMPLES, file), 'utf8');
  if (opts.patch) text = opts.patch(text);
  const docs = parseAllDocuments(text).map((d) => d.toJSON());
  const loras = docs.filter((d) => d?.kind === 'ModelRoute').flatMap((d) => d.spec.loraAdapters ?? []);
  const engines = new Map<string, RunningEngine[]>();
  let endpoints = '';
  try {
    for (const s of docs.filter((d) => d?.kind === 'ModelServer')) {
      const set = await startEngines({
        replicas: opts.replicas ?? 1,
        model: s.spec.model,
        engine: s.spec.inferenceEngine === 'SGLang' ? 'sglang' : 'vllm',
        speedup: 20,
        seed: 1,
        enableLora: loras.length > 0,
        maxLoras: Math.max(1, loras.length),
        loraModules: Object.fromEntries(loras.map((l: string) => [l, `/adapters/${l}`])),
      });
      engines.set(s.metadata.name, set);
      set.forEach((e, i) => {
        endpoints += `---\n${endpointYaml(`${s.metadata.name}-${i}`, e, s.spec.workloadSelector.matchLabels)}`;
      });
    }
  } catch (e) {
    for (const set of engines.values()) await Promise.all(set.map((x) => x.close()));
    throw e;
  }
  const h = await startHarness(
    { 'example.yaml': text, 'engines.yaml': endpoints },
    { scrapeIntervalMs: 500, ...opts.router },
  );
  const client = new OpenAI({ baseURL: `${h.router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  return {
    h,
    client,
    engines,
    docs,
    async close() {
      await h.close();
      for (const set of engines.values()) await Promise.all(set.map((x) => x.close()));
    },
  };
}

/** How many requests each ModelServer served, from the router's own metric. */
export async function servedBy(h: Harness): Promise<Record<string, number>> {
  const { parsePrometheusText } = await import('../../src/promtext/index.js');
  const out: Record<string, number> = {};
  for (const s of parsePrometheusText(
    await h.router.metrics.registry.metrics(),
    (n) => n === 'kthena_router_requests_total',
  )) {
    if (s.labels.backend_type !== 'model_server' || s.labels.status_code !== '200') continue;
    out[s.labels.backend_name] = (out[s.labels.backend_name] ?? 0) + s.value;
  }
  return out;
}

/** Binomial bound: |observed − n·p| ≤ 5 standard deviations (false alarm < 1e-6). */
export function withinBinomial(observed: number, n: number, p: number): boolean {
  return Math.abs(observed - n * p) <= 5 * Math.sqrt(n * p * (1 - p));
}
