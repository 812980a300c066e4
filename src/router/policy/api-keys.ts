// API keys stored hashed (SHA-256, hex), each mapped to a user and a tier. Loaded from a YAML/JSON file that is either
//   keys: [{sha256: <hex>, user: alice, tier: 1}, ...]
// or a Kubernetes Secret manifest whose data/stringData key `keys.yaml` holds that document (so a mounted or exported
// Secret works as-is). Plain keys are never stored or logged; `hashApiKey` makes the hashes.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export interface ApiKeyEntry {
  user: string;
  tier: number;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Parses a key document; errors name the path of the bad entry, never its hash. */
export function parseApiKeys(text: string, source: string): Map<string, ApiKeyEntry> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new Error(`${source}: not valid YAML: ${(e as Error).message}`);
  }
  if (isObj(doc) && doc.kind === 'Secret') {
    const str = isObj(doc.stringData) ? doc.stringData['keys.yaml'] : undefined;
    const b64 = isObj(doc.data) ? doc.data['keys.yaml'] : undefined;
    const inner = typeof str === 'string' ? str : typeof b64 === 'string' ? Buffer.from(b64, 'base64').toString() : '';
    if (!inner) throw new Error(`${source}: Secret has no data/stringData key "keys.yaml"`);
    return parseApiKeys(inner, `${source} (Secret keys.yaml)`);
  }
  if (!isObj(doc) || !Array.isArray(doc.keys)) throw new Error(`${source}: expected a mapping with a "keys" list`);
  const out = new Map<string, ApiKeyEntry>();
  doc.keys.forEach((k: unknown, i: number) => {
    const path = `${source}: keys[${i}]`;
    if (!isObj(k)) throw new Error(`${path}: must be a mapping`);
    const hash = typeof k.sha256 === 'string' ? k.sha256.toLowerCase() : '';
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error(`${path}.sha256: must be 64 hex characters (SHA-256 of the key)`);
    if (typeof k.user !== 'string' || k.user === '') throw new Error(`${path}.user: must be a non-empty string`);
    const tier = k.tier === undefined ? 0 : Number(k.tier);
    if (!Number.isInteger(tier)) throw new Error(`${path}.tier: must be an integer`);
    if (out.has(hash)) throw new Error(`${path}: duplicate key hash`);
    out.set(hash, { user: k.user, tier });
  });
  return out;
}

export function loadApiKeysFile(path: string): Map<string, ApiKeyEntry> {
  return parseApiKeys(readFileSync(path, 'utf8'), path);
}
