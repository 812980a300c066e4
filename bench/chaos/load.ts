// The chaos soak's clients: steady streaming chat completions through the router, plus slow readers and clients that
// abort mid-stream. Each request reports how it ended (plan.ts classifies it); raw fetch rather than the openai client
// because the soak must tell "nothing arrived" from "cut after the first byte" from "ended with [DONE]".
import type { RequestOutcome } from './plan.js';

export interface ClientOptions {
  base: string;
  model: string;
  maxTokens: number;
  /** Pause between reads (a slow reader: the router must hold back-pressure, not buffer without end). */
  readDelayMs?: number;
  /** Abort after this many body chunks (an aborting client). */
  abortAfterChunks?: number;
  /** Bounds a broken run only: a request still open after this is aborted and counted as lost. */
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One streaming chat completion; never throws. */
export async function streamOnce(o: ClientOptions, prompt: string): Promise<RequestOutcome & { error?: string }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error('client timeout')), o.timeoutMs ?? 120_000);
  const out: RequestOutcome & { error?: string } = { status: 0, firstByte: false, done: false, abortedByClient: false };
  try {
    const r = await fetch(`${o.base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: o.model,
        messages: [{ role: 'user', content: prompt }],
        max_tokens: o.maxTokens,
        stream: true,
      }),
      signal: ac.signal,
    });
    out.status = r.status;
    if (!r.body) return out;
    const decoder = new TextDecoder();
    let text = '';
    let chunks = 0;
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
      out.firstByte = true;
      text += decoder.decode(chunk, { stream: true });
      chunks++;
      if (o.abortAfterChunks !== undefined && chunks >= o.abortAfterChunks) {
        out.abortedByClient = true;
        ac.abort();
        break;
      }
      if (o.readDelayMs) await sleep(o.readDelayMs);
    }
    // An SSE error event is followed by [DONE] too: only a clean end counts as done.
    out.done = r.status === 200 && text.includes('data: [DONE]') && !/^data: \{"error"/m.test(text);
    if (r.status !== 200) out.error = text.slice(0, 200);
    else if (!out.done && !out.abortedByClient)
      out.error = (/^data: (\{"error".*)$/m.exec(text)?.[1] ?? 'no [DONE]').slice(0, 200);
  } catch (err) {
    if (!out.abortedByClient) out.error = (err as Error).message;
  } finally {
    clearTimeout(timer);
  }
  return out;
}

export interface LoadRecord extends RequestOutcome {
  startMs: number;
  endMs: number;
  kind: 'steady' | 'slow' | 'aborting';
  error?: string;
}

/** `concurrency` clients sending back to back until `stop()`; `done` resolves when the last request finished. */
export function steadyLoad(
  o: ClientOptions & { concurrency: number; now: () => number; onRecord: (r: LoadRecord) => void },
): { stop(): void; done: Promise<void> } {
  let stopped = false;
  let n = 0;
  const worker = async (w: number) => {
    while (!stopped) {
      const startMs = o.now();
      const r = await streamOnce(o, `chaos client ${w} request ${n++}: tell me a story`);
      o.onRecord({ ...r, startMs, endMs: o.now(), kind: 'steady' });
    }
  };
  const done = Promise.all(Array.from({ length: o.concurrency }, (_, w) => worker(w))).then(() => undefined);
  return {
    stop: () => {
      stopped = true;
    },
    done,
  };
}
