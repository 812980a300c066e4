// CPU cost of the OpenAI-shape translation of an Anthropic stream (docs/external-providers.md, "Measured").
// Run: npx tsx scripts/measure-anthropic-translate.ts
import { AnthropicStreamTranslator } from '../src/router/providers/anthropic.js';

const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const N = 100_000;
let s = ev('message_start', { message: { id: 'm', model: 'x', usage: { input_tokens: 5 } } });
for (let i = 0; i < N; i++) s += ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ' tok' } });
s += ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: N } });
s += ev('message_stop', {});
const chunks: string[] = [];
for (let i = 0; i < s.length; i += 1400) chunks.push(s.slice(i, i + 1400));
const runs: number[] = [];
for (let r = 0; r < 5; r++) {
  const t = new AnthropicStreamTranslator(1, true);
  const t0 = process.cpuUsage();
  let out = 0;
  for (const c of chunks) out += t.push(c).length;
  const d = process.cpuUsage(t0);
  runs.push((d.user + d.system) / N);
  if (!t.done || out === 0) throw new Error('bad');
}
runs.sort((a, b) => a - b);
console.log(
  `CPU per translated event (µs), median of 5 runs over ${N} events in 1400-byte chunks: ${runs[2].toFixed(2)}`,
);
