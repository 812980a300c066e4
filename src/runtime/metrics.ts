// Engine metrics → Kthena's standard names. vLLM and SGLang name the same signals differently; the autoscaler and
// dashboards read one name whatever the engine. Pure: exposition text in, exposition text out.

export type EngineFamily = 'vllm' | 'sglang';

/** Standard name → the engine's names, in order of preference (vLLM renamed gpu_cache_usage_perc in v1). */
const STANDARD: Record<string, Record<EngineFamily, string[]>> = {
  'kthena:num_requests_waiting': { vllm: ['vllm:num_requests_waiting'], sglang: ['sglang:num_queue_reqs'] },
  'kthena:num_requests_running': { vllm: ['vllm:num_requests_running'], sglang: ['sglang:num_running_reqs'] },
  'kthena:kv_cache_usage_perc': {
    vllm: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'],
    sglang: ['sglang:token_usage'],
  },
  'kthena:prompt_tokens_total': { vllm: ['vllm:prompt_tokens_total'], sglang: ['sglang:prompt_tokens_total'] },
  'kthena:generation_tokens_total': {
    vllm: ['vllm:generation_tokens_total'],
    sglang: ['sglang:generation_tokens_total'],
  },
  'kthena:time_to_first_token_seconds': {
    vllm: ['vllm:time_to_first_token_seconds'],
    sglang: ['sglang:time_to_first_token_seconds'],
  },
  'kthena:time_per_output_token_seconds': {
    vllm: ['vllm:inter_token_latency_seconds', 'vllm:time_per_output_token_seconds'],
    sglang: ['sglang:inter_token_latency_seconds', 'sglang:time_per_output_token_seconds'],
  },
  'kthena:e2e_request_latency_seconds': {
    vllm: ['vllm:e2e_request_latency_seconds'],
    sglang: ['sglang:e2e_request_latency_seconds'],
  },
};

export const STANDARD_METRICS = Object.keys(STANDARD);

/** `--engine` of upstream's runtime (the lower-cased backend type) → the metric family. */
export function engineFamily(engine: string): EngineFamily | undefined {
  const e = engine.toLowerCase();
  if (e.startsWith('vllm')) return 'vllm';
  if (e.startsWith('sglang')) return 'sglang';
  return undefined;
}

const SUFFIXES = ['', '_bucket', '_sum', '_count', '_created'];

/** The family a sample or HELP/TYPE line belongs to, and the rest of the line after the name. */
function splitLine(line: string): { kind: 'sample' | 'help' | 'type'; name: string; rest: string } | undefined {
  const meta = /^# (HELP|TYPE) (\S+)(.*)$/.exec(line);
  if (meta) return { kind: meta[1] === 'HELP' ? 'help' : 'type', name: meta[2], rest: meta[3] };
  if (line.startsWith('#') || line.trim() === '') return undefined;
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(.*)$/.exec(line);
  return m ? { kind: 'sample', name: m[1], rest: m[2] } : undefined;
}

/**
 * The engine's own exposition followed by the standard families, copied from the first engine family that is
 * present for each standard name (samples, labels, HELP and TYPE kept).
 */
export function normaliseMetrics(text: string, family: EngineFamily): string {
  const lines = text.split('\n');
  const present = new Set<string>();
  for (const l of lines) {
    const s = splitLine(l);
    if (s?.kind === 'type') present.add(s.name);
    else if (s?.kind === 'sample')
      for (const suf of SUFFIXES) if (s.name.endsWith(suf)) present.add(s.name.slice(0, s.name.length - suf.length));
  }
  const rename = new Map<string, string>();
  for (const [std, names] of Object.entries(STANDARD)) {
    const src = names[family].find((n) => present.has(n));
    if (src) rename.set(src, std);
  }
  const out: string[] = [];
  for (const l of lines) {
    const s = splitLine(l);
    if (!s) continue;
    if (s.kind !== 'sample') {
      const std = rename.get(s.name);
      if (std) out.push(`# ${s.kind.toUpperCase()} ${std}${s.rest}`);
      continue;
    }
    for (const suf of SUFFIXES) {
      if (!s.name.endsWith(suf)) continue;
      const std = rename.get(s.name.slice(0, s.name.length - suf.length));
      if (std) {
        out.push(`${std}${suf}${s.rest}`);
        break;
      }
    }
  }
  const body = text.endsWith('\n') || text === '' ? text : `${text}\n`;
  return out.length ? `${body}${out.join('\n')}\n` : body;
}
