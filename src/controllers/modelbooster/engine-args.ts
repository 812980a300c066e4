// A worker's `config` map → engine command-line flags, and the few keys the controller reads itself
// (port, served-model-name, kv-transfer-config). Pure.

export type WorkerConfig = Record<string, unknown>;

export const DEFAULT_ENGINE_PORT = 8000;

/** The value of one flag as the engine reads it; undefined = a bare flag (upstream's `enforce-eager: ""`). */
function flagValue(v: unknown): string | undefined {
  if (v === '' || v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  // kv-transfer-config and other structured values: the engines parse JSON.
  return JSON.stringify(v);
}

/** Keys sorted, `--key` with `_` → `-`, then the value unless it is empty (upstream's argument order). */
export function configToArgs(config: WorkerConfig | undefined): string[] {
  if (!config) return [];
  const out: string[] = [];
  for (const key of Object.keys(config).sort()) {
    out.push(`--${key.replace(/_/g, '-')}`);
    const raw = config[key];
    // A list is an engine's multi-value flag (nargs '+'), e.g. lora-modules: [a=/p, b=/q] → --lora-modules a=/p b=/q
    const values = Array.isArray(raw) ? raw.map(flagValue) : [flagValue(raw)];
    for (const v of values) if (v !== undefined) out.push(v);
  }
  return out;
}

/** config.port as a number, or undefined when absent or not a port (admission rejects those). */
export function configPort(config: WorkerConfig | undefined): number | undefined {
  const raw = config?.port;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : undefined;
}

export function servedModelName(config: WorkerConfig | undefined): string | undefined {
  const v = config?.['served-model-name'] ?? config?.served_model_name;
  if (typeof v === 'string' && v.trim()) return v.trim().split(/\s+/)[0];
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}

export interface KvTransferConfig {
  kv_connector?: string;
  kv_role?: string;
}

/** `kv-transfer-config` (a JSON string upstream; an object is read too), or undefined. */
export function kvTransferConfig(config: WorkerConfig | undefined): KvTransferConfig | undefined {
  const raw = config?.['kv-transfer-config'] ?? config?.kv_transfer_config;
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw === 'object' && !Array.isArray(raw)) return raw as KvTransferConfig;
  if (typeof raw !== 'string') return undefined;
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as KvTransferConfig) : undefined;
  } catch {
    return undefined;
  }
}

const CONNECTOR_TYPES: Record<string, 'mooncake' | 'nixl' | 'lmcache'> = {
  MooncakeConnector: 'mooncake',
  MooncakeConnectorV1: 'mooncake',
  NixlConnector: 'nixl',
  LMCacheConnectorV1: 'lmcache',
};

/** vLLM connector class → ModelServer kvConnector.type. */
export function connectorType(kv: KvTransferConfig | undefined): 'mooncake' | 'nixl' | 'lmcache' | undefined {
  return kv?.kv_connector ? CONNECTOR_TYPES[kv.kv_connector] : undefined;
}

/** Shell-quotes one word for `bash -c` (only when it needs it). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_\-.,/:=@%+]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The LoRA adapters a worker loads at start: vLLM's `lora-modules` (name=path or {"name","path"}) and SGLang's
 * `lora-paths`. Their names become the ModelRoute's loraAdapters.
 */
export function loraAdapterNames(config: WorkerConfig | undefined): string[] {
  const raw = config?.['lora-modules'] ?? config?.lora_modules ?? config?.['lora-paths'] ?? config?.lora_paths;
  if (raw === undefined || raw === null) return [];
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.trim().split(/\s+/) : [raw];
  const names: string[] = [];
  for (const item of items) {
    let name: unknown;
    if (typeof item === 'object' && item !== null) name = (item as { name?: unknown }).name;
    else if (typeof item === 'string' && item.trim().startsWith('{')) {
      try {
        name = (JSON.parse(item) as { name?: unknown }).name;
      } catch {
        name = undefined;
      }
    } else if (typeof item === 'string') name = item.includes('=') ? item.slice(0, item.indexOf('=')) : item;
    if (typeof name === 'string' && name.trim() && !names.includes(name.trim())) names.push(name.trim());
  }
  return names;
}
