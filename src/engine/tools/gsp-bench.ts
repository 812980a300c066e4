// Offline replay of upstream Kthena's router benchmark workload (SGLang bench_serving "generated-shared-prefix")
// against N simulated engines on a virtual clock, with random routing — the baseline row we calibrate on.
// No HTTP, no wall time: deterministic for a seed and fast, so it can be re-run for every profile change.
//
//   npx tsx src/engine/tools/gsp-bench.ts --profile deepseek-r1-distill-qwen-7b --system 4096 --question 256
import { parseArgs } from 'node:util';
import { VirtualClock } from '../clock.js';
import type { EngineOptions } from '../config.js';
import { Engine } from '../engine.js';
import { getProfile, type Profile } from '../profiles.js';
import { mixSeed, xorshift32 } from '../text-gen.js';

export interface GspOptions {
  profile: string;
  replicas: number;
  groups: number;
  promptsPerGroup: number;
  systemLen: number;
  questionLen: number;
  outputLen: number;
  /** Poisson arrival rate (req/s); Infinity = all at once. */
  rate: number;
  maxConcurrency: number;
  seed: number;
  /** Extra engine options (e.g. an efficiency override while calibrating). */
  engine?: Partial<EngineOptions>;
}

export interface GspResult {
  requests: number;
  durationSec: number;
  throughputRps: number;
  meanLatencySec: number;
  meanTtftSec: number;
  p50TtftSec: number;
  meanTpotSec: number;
  cachedTokenFraction: number;
  preemptions: number;
}

function randTokens(seed: number, n: number): number[] {
  const out = new Array<number>(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = xorshift32(s);
    out[i] = 1000 + (s % 100_000);
  }
  return out;
}

export function runGsp(o: GspOptions): GspResult {
  const clock = new VirtualClock();
  const engines = Array.from(
    { length: o.replicas },
    (_, i) => new Engine({ model: 'm', profile: o.profile, clock, seed: o.seed, engineId: `gsp-${i}`, ...o.engine }),
  );
  // Dataset: groups × prompts, shuffled (as bench_serving does).
  const system = Array.from({ length: o.groups }, (_, g) => randTokens(mixSeed(o.seed, 1, g), o.systemLen));
  const order: [number, number][] = [];
  for (let g = 0; g < o.groups; g++) for (let p = 0; p < o.promptsPerGroup; p++) order.push([g, p]);
  let rs = mixSeed(o.seed, 2);
  for (let i = order.length - 1; i > 0; i--) {
    rs = xorshift32(rs);
    const j = rs % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  // Arrivals: Poisson process at `rate`, capped by a concurrency semaphore.
  const pending: number[] = [];
  let inflight = 0;
  let done = 0;
  let firstSend = Number.POSITIVE_INFINITY;
  let lastDone = 0;
  let latSum = 0;
  let ttftSum = 0;
  let tpotSum = 0;
  let tpotN = 0;
  let cached = 0;
  let prompt = 0;
  const ttfts: number[] = [];
  let route = mixSeed(o.seed, 3);
  const send = (idx: number) => {
    inflight++;
    const [g, p] = order[idx];
    const tokens = system[g].concat(randTokens(mixSeed(o.seed, 4, g, p), o.questionLen));
    route = xorshift32(route);
    const e = engines[route % engines.length];
    const sent = clock.now();
    firstSend = Math.min(firstSend, sent);
    let first = -1;
    e.submit({
      id: `q${idx}`,
      promptTokens: tokens,
      maxTokens: o.outputLen,
      minTokens: 0,
      ignoreEos: true,
      lora: null,
      onUpdate: (r, now) => {
        if (first < 0 && r.numOutputTokens > 0) first = now;
        if (r.state !== 'finished') return;
        done++;
        inflight--;
        lastDone = now;
        latSum += now - sent;
        ttftSum += first - sent;
        ttfts.push(first - sent);
        if (r.numOutputTokens > 1) {
          tpotSum += (now - first) / (r.numOutputTokens - 1);
          tpotN++;
        }
        cached += r.numCachedTokens;
        prompt += r.numPromptTokens;
        const next = pending.shift();
        if (next !== undefined) send(next);
      },
    });
  };
  let t = 0;
  let as = mixSeed(o.seed, 5);
  for (let i = 0; i < order.length; i++) {
    if (Number.isFinite(o.rate)) {
      as = xorshift32(as);
      t += -Math.log((as + 1) / 4294967297) / o.rate;
    }
    const idx = i;
    clock.at(t, () => {
      if (inflight < o.maxConcurrency) send(idx);
      else pending.push(idx);
    });
  }
  clock.runAll();
  for (const e of engines) e.close();
  ttfts.sort((a, b) => a - b);
  const dur = lastDone - firstSend;
  return {
    requests: done,
    durationSec: dur,
    throughputRps: done / dur,
    meanLatencySec: latSum / done,
    meanTtftSec: ttftSum / done,
    p50TtftSec: ttfts[Math.floor(ttfts.length / 2)],
    meanTpotSec: tpotN ? tpotSum / tpotN : 0,
    cachedTokenFraction: prompt ? cached / prompt : 0,
    preemptions: engines.reduce((s, e) => s + e.core.numPreemptions, 0),
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      profile: { type: 'string', default: 'deepseek-r1-distill-qwen-7b' },
      replicas: { type: 'string', default: '3' },
      groups: { type: 'string', default: '256' },
      'prompts-per-group': { type: 'string', default: '32' },
      system: { type: 'string', default: '4096' },
      question: { type: 'string', default: '256' },
      output: { type: 'string', default: '128' },
      rate: { type: 'string', default: '800' },
      concurrency: { type: 'string', default: '300' },
      seed: { type: 'string', default: '1' },
      // Calibration experiments: override the profile's prefill MFU or accelerator memory.
      'prefill-mfu': { type: 'string' },
      'mem-gib': { type: 'string' },
    },
  });
  const base = getProfile(values.profile!);
  const overrides: Partial<Profile> = {};
  if (values['prefill-mfu']) overrides.prefillMfu = Number(values['prefill-mfu']);
  if (values['mem-gib']) overrides.gpu = { ...base.gpu, memGiB: Number(values['mem-gib']) };
  const opts: GspOptions = {
    profile: values.profile!,
    replicas: Number(values.replicas),
    groups: Number(values.groups),
    promptsPerGroup: Number(values['prompts-per-group']),
    systemLen: Number(values.system),
    questionLen: Number(values.question),
    outputLen: Number(values.output),
    rate: values.rate === 'inf' ? Number.POSITIVE_INFINITY : Number(values.rate),
    maxConcurrency: Number(values.concurrency),
    seed: Number(values.seed),
    engine: { profileOverrides: overrides },
  };
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const r = runGsp(opts);
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    `${JSON.stringify({ ...opts, ...r, wallSec: (performance.now() - started) / 1000, cpuSec: (cpu.user + cpu.system) / 1e6 }, null, 1)}\n`,
  );
}

if (process.argv[1]?.endsWith('gsp-bench.ts') || process.argv[1]?.endsWith('gsp-bench.js')) main();
