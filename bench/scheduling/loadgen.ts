// Open-loop load generator: Gamma arrivals, a concurrency cap, streaming completions; per request TTFT, ITL, E2E,
// success and cached tokens. Times are wall seconds here; the caller converts to simulated time.
import { Agent, request } from 'undici';
import type { RequestResult } from '../../src/twin/index.js';
import type { BenchRequest } from './dataset.js';

/** One request's measurements: the same shape the twin's virtual clients produce. */
export type { RequestResult };

export interface LoadResult {
  results: RequestResult[];
  wallSec: number;
}

export async function runLoad(o: {
  url: string;
  model: string;
  requests: BenchRequest[];
  /** wall-clock gaps before each request (seconds) */
  gaps: number[];
  maxConcurrency: number;
  onProgress?: (done: number, total: number) => void;
}): Promise<LoadResult> {
  const agent = new Agent({ connections: o.maxConcurrency + 8, keepAliveTimeout: 30_000 });
  const results: RequestResult[] = new Array(o.requests.length);
  let inflight = 0;
  let done = 0;
  const waiters: (() => void)[] = [];
  const sessionsDone = new Map<number, Promise<void>>();
  const t0 = performance.now();
  let next = t0;
  const tasks: Promise<void>[] = [];
  for (let i = 0; i < o.requests.length; i++) {
    next += o.gaps[i] * 1000;
    const delay = next - performance.now();
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    while (inflight >= o.maxConcurrency) await new Promise<void>((r) => waiters.push(r));
    const req = o.requests[i];
    const prev = req.session !== undefined ? sessionsDone.get(req.session) : undefined;
    inflight++;
    const task = (async () => {
      if (prev) await prev;
      results[i] = await one(agent, o.url, o.model, req);
      inflight--;
      done++;
      o.onProgress?.(done, o.requests.length);
      waiters.shift()?.();
    })();
    if (req.session !== undefined) sessionsDone.set(req.session, task);
    tasks.push(task);
  }
  await Promise.all(tasks);
  const wallSec = (performance.now() - t0) / 1000;
  await agent.close();
  return { results, wallSec };
}

async function one(agent: Agent, url: string, model: string, r: BenchRequest): Promise<RequestResult> {
  const start = performance.now();
  const res: RequestResult = {
    ok: false,
    cls: r.cls,
    ttft: 0,
    e2e: 0,
    itls: [],
    promptTokens: 0,
    outputTokens: 0,
    cachedTokens: 0,
  };
  try {
    const resp = await request(`${url}/v1/completions`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model,
        prompt: r.prompt,
        max_tokens: r.maxTokens,
        ignore_eos: true,
        stream: true,
        stream_options: { include_usage: true },
      }),
      bodyTimeout: 600_000,
      headersTimeout: 600_000,
    });
    if (resp.statusCode !== 200) {
      res.error = `HTTP ${resp.statusCode}: ${(await resp.body.text()).slice(0, 200)}`;
      return res;
    }
    let buf = '';
    let last = 0;
    for await (const chunk of resp.body) {
      buf += (chunk as Buffer).toString();
      let nl = buf.indexOf('\n\n');
      while (nl >= 0) {
        const ev = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        nl = buf.indexOf('\n\n');
        if (!ev.startsWith('data: ')) continue;
        const data = ev.slice(6);
        if (data === '[DONE]') continue;
        const j = JSON.parse(data) as {
          choices?: { text?: string }[];
          usage?: {
            prompt_tokens: number;
            completion_tokens: number;
            prompt_tokens_details?: { cached_tokens?: number };
          };
        };
        const now = performance.now();
        if (j.choices?.length && j.choices[0].text) {
          if (res.ttft === 0) res.ttft = (now - start) / 1000;
          else res.itls.push((now - last) / 1000);
          last = now;
        }
        if (j.usage) {
          res.promptTokens = j.usage.prompt_tokens;
          res.outputTokens = j.usage.completion_tokens;
          res.cachedTokens = j.usage.prompt_tokens_details?.cached_tokens ?? 0;
        }
      }
    }
    res.e2e = (performance.now() - start) / 1000;
    res.ok = res.outputTokens > 0;
    if (!res.ok) res.error = 'no tokens';
  } catch (e) {
    res.error = (e as Error).message;
  }
  return res;
}
