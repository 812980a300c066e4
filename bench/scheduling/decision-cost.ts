// `kthena bench decision-cost`: what one scheduling decision of the default scorer costs, in CPU time — building the
// request context, tokenizing and hashing the prompt, looking every candidate up in the precise KV index and scoring
// — at 3, 16, 100 and 256 candidate endpoints and 1k, 4k and 16k-token prompts. CPU time (process.cpuUsage) rather
// than wall time, so a loaded machine slows the run but hardly moves the figure; medians of --runs repetitions, the
// load average printed beside them. Also the index's real heap per entry when filled to a full-size working set,
// against the byte estimate its budget (maxIndexEntries) is written in.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { encodeKvEventBatch, seqFrame } from '../../src/engine/index.js';
import {
  applyKvMessage,
  BUILTIN_PLUGINS,
  buildRequestContext,
  buildScheduler,
  kvAwarenessOf,
  PluginRegistry,
  parseRouterConfig,
  RouterMetrics,
  RouterStore,
  type ServerEndpoint,
} from '../../src/router/index.js';
import { blockHashes, localTokens } from '../../src/tokens/index.js';
import { rng, words } from './dataset.js';

const BLOCK = 16;
const CONFIG = `scheduler:
  pluginConfig:
  - {name: latency-predictor, args: {tokenizer: local, blockSize: ${BLOCK}, maxIndexEntries: 2000000}}
  plugins:
    Score:
      enabled: [{name: latency-predictor, weight: 1}]
`;

function endpoints(n: number): ServerEndpoint[] {
  const store = new RouterStore();
  store.replaceAll({
    routes: [],
    servers: [
      {
        apiVersion: 'networking.serving.volcano.sh/v1alpha1',
        kind: 'ModelServer',
        metadata: { name: 's', namespace: 'default' },
        spec: {
          model: 'm',
          inferenceEngine: 'vLLM',
          workloadSelector: { matchLabels: { app: 's' } },
          workloadPort: { port: 8000 },
        },
      },
    ],
    providers: [],
    endpoints: Array.from({ length: n }, (_, i) => ({
      namespace: 'default',
      name: `e${String(i).padStart(3, '0')}`,
      address: `10.1.${i >> 8}.${i & 255}`,
      labels: { app: 's' },
      ready: true,
    })),
  });
  return [...(store.view.endpointsByServer.get('default/s') ?? [])];
}

async function scheduler() {
  const registry = new PluginRegistry(BUILTIN_PLUGINS);
  const metrics = new RouterMetrics();
  const built = await buildScheduler(parseRouterConfig(CONFIG, registry), registry, {
    metrics,
    rand: rng(1),
    clock: { now: () => 0, setInterval: () => 0, clearInterval: () => {} },
    kvEvents: 'fed',
  });
  return { scheduler: built.scheduler, kv: kvAwarenessOf(metrics)! };
}

/**
 * µs of CPU per decision over prompts sharing a prefix that a third of the endpoints hold: `full` from the parsed body
 * (tokenizing included), `scoring` with the prompt already tokenized (hashing, index lookups, prediction, ranking).
 */
export async function costOnce(
  candidates: number,
  promptTokens: number,
  decisions: number,
): Promise<{ full: number; scoring: number }> {
  const { scheduler: s, kv } = await scheduler();
  const eps = endpoints(candidates);
  const r = rng(candidates * 7 + promptTokens);
  const prefix = words(r, Math.floor(promptTokens * 0.9));
  const bodies = Array.from({ length: decisions }, () => {
    const body = {
      model: 'm',
      prompt: prefix + words(r, promptTokens - Math.floor(promptTokens * 0.9)),
      max_tokens: 16,
    };
    // The handler has the body's bytes from the socket; they are not part of the decision.
    return { body, raw: Buffer.from(JSON.stringify(body)) };
  });
  // A third of the endpoints announce the shared prefix (events through the wire format).
  const hashes = blockHashes(localTokens(bodies[0].body), BLOCK);
  eps.forEach((ep, i) => {
    if (i % 3 !== 0) return;
    const cut = hashes.slice(0, Math.floor((hashes.length * (i % 9)) / 9) + 1);
    const payload = encodeKvEventBatch(
      [
        {
          type: 'BlockStored',
          blockHashes: cut,
          parentBlockHash: null,
          tokenIds: [],
          blockSize: BLOCK,
          loraName: null,
        },
      ],
      0,
    );
    applyKvMessage(kv.index, ep.state.key, seqFrame(0n), payload);
  });
  const ctx = (i: number, tag: string) =>
    buildRequestContext({
      id: `${tag}${i}`,
      body: bodies[i].body,
      raw: bodies[i].raw,
      model: 'm',
      isLora: false,
      startedAt: 0,
    });
  // Warm-up (JIT), then the measured decisions.
  for (let i = 0; i < 20; i++) await s.schedule(ctx(i % decisions, 'w'), eps);
  let c0 = process.cpuUsage();
  for (let i = 0; i < decisions; i++) await s.schedule(ctx(i, 'd'), eps);
  let c = process.cpuUsage(c0);
  const full = (c.user + c.system) / decisions;
  const pre = [];
  for (let i = 0; i < decisions; i++) {
    const x = ctx(i, 'p');
    await kv.prepare(x, eps);
    pre.push(x);
  }
  c0 = process.cpuUsage();
  for (const x of pre) await s.schedule(x, eps);
  c = process.cpuUsage(c0);
  return { full, scoring: (c.user + c.system) / decisions };
}

/** Real heap bytes per index entry, filling the index with `entries` (endpoint, block) entries. */
async function indexBytesPerEntry(
  entries: number,
  nEndpoints: number,
): Promise<{ entries: number; heapBytes: number; estimateBytes: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const { kv } = await scheduler();
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const per = Math.ceil(entries / nEndpoints);
  for (let e = 0; e < nEndpoints; e++) {
    const hs = Array.from({ length: per }, (_, i) => (e * per + i) * 2654435761 + 12345);
    kv.index.applyBatch(`ep${e}`, 0n, [{ type: 'BlockStored', blockHashes: hs, blockSize: BLOCK }]);
  }
  gc?.();
  const heap = process.memoryUsage().heapUsed - before;
  return { entries: kv.index.entries, heapBytes: heap, estimateBytes: kv.index.bytes };
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)];

export async function runDecisionCost(o: {
  runs: number;
  decisions: number;
  out: string;
  json: boolean;
}): Promise<void> {
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const load0 = loadavg()[0];
  const rows: {
    candidates: number;
    promptTokens: number;
    usPerDecision: number;
    usScoringOnly: number;
    runs: number[];
  }[] = [];
  for (const promptTokens of [1024, 4096, 16384])
    for (const candidates of [3, 16, 100, 256]) {
      const runs: { full: number; scoring: number }[] = [];
      for (let i = 0; i < o.runs; i++) runs.push(await costOnce(candidates, promptTokens, o.decisions));
      const row = {
        candidates,
        promptTokens,
        usPerDecision: median(runs.map((x) => x.full)),
        usScoringOnly: median(runs.map((x) => x.scoring)),
        runs: runs.map((x) => x.full),
      };
      rows.push(row);
      log(
        `  ${promptTokens} tokens, ${candidates} candidates: ${row.usPerDecision.toFixed(1)} µs CPU per decision, ${row.usScoringOnly.toFixed(1)} µs without tokenizing (runs ${row.runs.map((r) => r.toFixed(1)).join(', ')})`,
      );
    }
  // Full size: kthena-long's working set is 3 replicas × 4,418 blocks of 128 tokens ≈ 13k entries; the router's
  // default budget (2M entries) is what a large fleet at block size 16 fills: measure both ends.
  const memory = [await indexBytesPerEntry(13_254, 3), await indexBytesPerEntry(2_000_000, 64)];
  for (const m of memory)
    log(
      `  index with ${m.entries} entries: ${(m.heapBytes / 1e6).toFixed(1)} MB heap (${(m.heapBytes / m.entries).toFixed(0)} B/entry) vs ${(m.estimateBytes / 1e6).toFixed(1)} MB estimated`,
    );
  const load1 = loadavg()[0];
  const result = {
    bench: 'decision-cost',
    meta: `latency-predictor, block size ${BLOCK}, ${o.decisions} decisions per run, ${o.runs} runs, median µs of CPU (user+system) per decision; ${cpus().length} cores, Node ${process.version}, load avg ${load0.toFixed(1)} → ${load1.toFixed(1)}`,
    rows,
    indexMemory: memory,
  };
  await mkdir(o.out, { recursive: true });
  const file = join(o.out, `decision-cost-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`${result.meta}\nresults: ${file}`);
  if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
}
