// Other projects' mock engines, run as `kthena engine-sim`: upstream Kthena's e2e fixtures use mocker images that
// take the model from the MODEL_NAME env variable (vLLM-style on :8000, SGLang-style on :30000), and llm-d's
// inference simulator takes vLLM's flags (--model, --served-model-name, --port, …). Pure: container → argv.
import type { Container } from 'kubernetes-types/core/v1.js';

interface MockKind {
  engine: 'vllm' | 'sglang';
  port: number;
  /** Reads vLLM-style flags from the container's command and args. */
  flags: boolean;
}

/** Matches the image repository (registry and tag stripped). */
const MOCKS: [RegExp, MockKind][] = [
  [/(^|\/)llm-d-inference-sim$/, { engine: 'vllm', port: 8000, flags: true }],
  [/(^|\/)(dynamo-mocker-vllm|vllm-mock|vllm-mocker)$/, { engine: 'vllm', port: 8000, flags: false }],
  [/(^|\/)(sglang-mock|sglang-mocker|dynamo-mocker-sglang)$/, { engine: 'sglang', port: 30000, flags: false }],
];

const PASS_INT = ['max-num-seqs', 'max-model-len', 'max-loras', 'seed'];

function flagValues(words: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < words.length; i++) {
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(words[i]);
    if (!m) continue;
    const vals: string[] = [];
    if (m[2] !== undefined) vals.push(m[2]);
    else while (i + 1 < words.length && !words[i + 1].startsWith('--')) vals.push(words[++i]);
    out.set(m[1], [...(out.get(m[1]) ?? []), ...vals]);
  }
  return out;
}

/** `kthena engine-sim …` for a known mock-engine image, or null when `c` is not one. */
export function mockEngineArgv(c: Container, repo: string, podIP: string): string[] | null {
  const kind = MOCKS.find(([re]) => re.test(repo))?.[1];
  if (!kind) return null;
  const env = new Map((c.env ?? []).map((e) => [e.name, e.value]));
  const f = kind.flags ? flagValues([...(c.command ?? []), ...(c.args ?? [])]) : new Map<string, string[]>();
  const served = f.get('served-model-name') ?? [];
  const model = f.get('model')?.[0] ?? env.get('MODEL_NAME') ?? served[0] ?? 'mock-model';
  const port = f.get('port')?.[0] ?? env.get('SERVER_PORT') ?? String(c.ports?.[0]?.containerPort ?? kind.port);
  const argv = ['engine-sim', '--engine', kind.engine, '--host', podIP, '--port', port, '--model', model];
  if (served.length > 0) argv.push('--served-model-name', ...served);
  for (const name of PASS_INT) {
    const v = f.get(name)?.[0];
    if (v !== undefined && /^[0-9]+$/.test(v)) argv.push(`--${name}`, v);
  }
  return argv;
}
