// The load generator: `concurrency` workers each open streams back to back until `streams` have completed.
// Per stream it records time to the first body byte (TTFT as the client sees it), total time and SSE events.
import { Pool } from 'undici';

export interface StreamSample {
  ttftMs: number;
  totalMs: number;
  events: number;
  ok: boolean;
}

export interface LoadResult {
  samples: StreamSample[];
  wallMs: number;
  errors: number;
}

const DATA = Buffer.from('data:');

export async function runLoad(opts: {
  url: string;
  path: string;
  body: string;
  concurrency: number;
  streams: number;
  /** Extra request headers (Portkey takes its target from headers). */
  headers?: Record<string, string>;
}): Promise<LoadResult> {
  const headers = { ...opts.headers, 'content-type': 'application/json' };
  const u = new URL(opts.url);
  const pool = new Pool(u.origin, { connections: opts.concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  const samples: StreamSample[] = [];
  let started = 0;
  let errors = 0;
  const one = async (): Promise<void> => {
    const t0 = performance.now();
    let ttft = -1;
    let events = 0;
    try {
      const res = await pool.request({
        path: opts.path,
        method: 'POST',
        headers,
        body: opts.body,
      });
      for await (const chunk of res.body) {
        const b = chunk as Buffer;
        if (ttft < 0) ttft = performance.now() - t0;
        for (let i = b.indexOf(DATA); i >= 0; i = b.indexOf(DATA, i + 5)) events++;
      }
      const ok = res.statusCode === 200;
      if (!ok) errors++;
      samples.push({ ttftMs: ttft, totalMs: performance.now() - t0, events, ok });
    } catch {
      errors++;
    }
  };
  const worker = async () => {
    while (started < opts.streams) {
      started++;
      await one();
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const wallMs = performance.now() - t0;
  await pool.close();
  return { samples, wallMs, errors };
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
