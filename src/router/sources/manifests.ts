// Turns YAML manifests into the router's resources, with errors that name the file, document and field.
// Upstream kinds get the router's structural checks here; once the API package's validator is available it is used too.
import { parseAllDocuments } from 'yaml';
import { applyDefaults, registerKind, validate } from '../../api/index.js';
import type { EndpointSpec, ExternalModelProvider, ModelRoute, ModelServer, StringMatch } from '../store/resources.js';
import type { StoreSnapshot } from '../store/store.js';
import { parseDuration } from '../util/duration.js';
import { type SecretDoc, secretFromObject } from './secrets.js';

export const NETWORKING_API = 'networking.serving.volcano.sh/v1alpha1';
/** The router-local kind for engines outside Kubernetes (see docs/router.md). */
export const ENDPOINT_API = 'router.kthena.io/v1alpha1';
export const ENDPOINT_KIND = 'EngineEndpoint';

export interface ManifestSource {
  file: string;
  text: string;
}

export interface LoadResult {
  snapshot: StoreSnapshot;
  errors: string[];
  /** `kind: Secret` (v1) documents: provider credentials for the file source (kept out of the routing store). */
  secrets: SecretDoc[];
}

const isObj = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);

function checkStringMatch(m: unknown, path: string, errs: string[]): void {
  if (!isObj(m)) {
    errs.push(`${path}: must be a mapping with one of exact, prefix, regex`);
    return;
  }
  const set = (['exact', 'prefix', 'regex'] as const).filter((k) => m[k] !== undefined);
  if (set.length !== 1) errs.push(`${path}: exactly one of exact, prefix, regex must be set`);
  for (const k of set) if (typeof m[k] !== 'string') errs.push(`${path}.${k}: must be a string`);
  if (typeof (m as StringMatch).regex === 'string') {
    try {
      new RegExp((m as StringMatch).regex!);
    } catch (e) {
      errs.push(`${path}.regex: does not compile: ${(e as Error).message}`);
    }
  }
}

export function checkModelRoute(o: Record<string, any>, errs: string[]): void {
  const s = o.spec;
  if (!isObj(s)) return void errs.push('spec: required');
  const lora = s.loraAdapters;
  if (lora !== undefined) {
    if (!Array.isArray(lora) || lora.length > 10) errs.push('spec.loraAdapters: must be a list of at most 10 names');
    else
      for (const [i, l] of lora.entries())
        if (typeof l !== 'string' || l === '') errs.push(`spec.loraAdapters[${i}]: must be a non-empty string`);
  }
  if (s.modelName !== undefined && typeof s.modelName !== 'string') errs.push('spec.modelName: must be a string');
  if (!s.modelName && !(Array.isArray(lora) && lora.length > 0))
    errs.push('spec: modelName and loraAdapters cannot both be empty');
  if (!Array.isArray(s.rules) || s.rules.length === 0 || s.rules.length > 16)
    return void errs.push('spec.rules: required, 1 to 16 rules');
  for (const [i, r] of (s.rules as unknown[]).entries()) {
    const p = `spec.rules[${i}]`;
    if (!isObj(r)) {
      errs.push(`${p}: must be a mapping`);
      continue;
    }
    const mm = r.modelMatch;
    if (mm !== undefined) {
      if (!isObj(mm)) errs.push(`${p}.modelMatch: must be a mapping`);
      else {
        if (mm.headers !== undefined) {
          if (!isObj(mm.headers)) errs.push(`${p}.modelMatch.headers: must be a mapping`);
          else
            for (const [h, m] of Object.entries(mm.headers)) checkStringMatch(m, `${p}.modelMatch.headers.${h}`, errs);
        }
        if (mm.uri !== undefined) checkStringMatch(mm.uri, `${p}.modelMatch.uri`, errs);
        if (
          mm.body !== undefined &&
          (!isObj(mm.body) || (mm.body.model !== undefined && typeof mm.body.model !== 'string'))
        )
          errs.push(`${p}.modelMatch.body: must be {model: string}`);
      }
    }
    const t = r.targetModels;
    if (!Array.isArray(t) || t.length === 0 || t.length > 16) {
      errs.push(`${p}.targetModels: required, 1 to 16 targets`);
      continue;
    }
    let total = 0;
    for (const [j, tm] of (t as unknown[]).entries()) {
      const q = `${p}.targetModels[${j}]`;
      if (!isObj(tm)) {
        errs.push(`${q}: must be a mapping`);
        continue;
      }
      const both = [tm.modelServerName, tm.externalModelProviderName].filter((x) => typeof x === 'string' && x !== '');
      if (both.length !== 1) errs.push(`${q}: exactly one of modelServerName, externalModelProviderName must be set`);
      if (tm.externalModelProviderName && Array.isArray(lora) && lora.length)
        errs.push(`${q}.externalModelProviderName: not allowed on a route with loraAdapters`);
      const w = tm.weight ?? 100;
      if (!Number.isInteger(w) || w < 0 || w > 100) errs.push(`${q}.weight: must be an integer from 0 to 100`);
      else total += w;
    }
    if (total <= 0) errs.push(`${p}.targetModels: total weight must be > 0`);
  }
  if (s.parentRefs !== undefined && !Array.isArray(s.parentRefs)) errs.push('spec.parentRefs: must be a list');
}

export function checkModelServer(o: Record<string, any>, errs: string[]): void {
  const s = o.spec;
  if (!isObj(s)) return void errs.push('spec: required');
  if (s.inferenceEngine !== 'vLLM' && s.inferenceEngine !== 'SGLang')
    errs.push(`spec.inferenceEngine: must be vLLM or SGLang, got ${JSON.stringify(s.inferenceEngine)}`);
  if (s.model !== undefined && (typeof s.model !== 'string' || s.model.length > 256))
    errs.push('spec.model: must be a string of at most 256 characters');
  const ml = s.workloadSelector?.matchLabels;
  if (!isObj(ml) || Object.keys(ml).length === 0) errs.push('spec.workloadSelector.matchLabels: at least one label');
  else
    for (const [k, v] of Object.entries(ml))
      if (typeof v !== 'string') errs.push(`spec.workloadSelector.matchLabels.${k}: must be a string`);
  const port = s.workloadPort?.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) errs.push('spec.workloadPort.port: required, 1 to 65535');
  const proto = s.workloadPort?.protocol;
  if (proto !== undefined && proto !== 'http' && proto !== 'https')
    errs.push('spec.workloadPort.protocol: http or https');
  const tp = s.trafficPolicy;
  if (tp !== undefined) {
    if (!isObj(tp)) errs.push('spec.trafficPolicy: must be a mapping');
    else {
      if (tp.timeout !== undefined) duration(tp.timeout, 'spec.trafficPolicy.timeout', errs);
      if (tp.retry !== undefined) {
        if (!isObj(tp.retry)) errs.push('spec.trafficPolicy.retry: must be a mapping');
        else {
          const a = tp.retry.attempts;
          if (a !== undefined && (!Number.isInteger(a) || a < 0))
            errs.push('spec.trafficPolicy.retry.attempts: integer ≥ 0');
          if (tp.retry.retryInterval !== undefined)
            duration(tp.retry.retryInterval, 'spec.trafficPolicy.retry.retryInterval', errs);
        }
      }
    }
  }
}

function duration(v: unknown, path: string, errs: string[]): void {
  if (typeof v !== 'string') return void errs.push(`${path}: must be a duration string like 10s`);
  try {
    parseDuration(v);
  } catch (e) {
    errs.push(`${path}: ${(e as Error).message}`);
  }
}

function checkEndpoint(o: Record<string, any>, errs: string[]): void {
  const s = o.spec;
  if (!isObj(s)) return void errs.push('spec: required');
  if (typeof s.address !== 'string' || s.address === '') errs.push('spec.address: required (IP or host name)');
  if (s.port !== undefined && (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535))
    errs.push('spec.port: 1 to 65535');
  if (s.ready !== undefined && typeof s.ready !== 'boolean') errs.push('spec.ready: must be true or false');
  const labels = o.metadata?.labels;
  if (labels !== undefined && !isObj(labels)) errs.push('metadata.labels: must be a mapping');
}

/** Extra validation hook, returning error strings with field paths. */
export type ExternalValidator = (obj: Record<string, unknown>) => string[];

// `kthena validate` and the API validator accept the router-local kind too.
registerKind(ENDPOINT_API, ENDPOINT_KIND, (obj) => {
  const errs: string[] = [];
  checkEndpoint(obj as Record<string, any>, errs);
  return errs.map((e) => {
    const at = e.indexOf(': ');
    return { path: e.slice(0, at), message: e.slice(at + 2) };
  });
});

/** The API package's schema and semantic rules, minus paths the router's own checks already reported. */
function apiProblems(o: Record<string, unknown>, mine: string[]): string[] {
  const out: string[] = [];
  for (const p of validate(o).errors) {
    if (mine.some((m) => m.startsWith(`${p.path}:`) || m.startsWith(`${p.path}.`))) continue;
    out.push(`${p.path || '(root)'}: ${p.message}`);
  }
  return out;
}

export function loadManifests(sources: ManifestSource[], extra?: ExternalValidator): LoadResult {
  const snapshot: StoreSnapshot = { routes: [], servers: [], providers: [], endpoints: [] };
  const errors: string[] = [];
  const secrets: SecretDoc[] = [];
  const seen = new Set<string>();
  for (const { file, text } of sources) {
    const docs = parseAllDocuments(text);
    for (const [di, doc] of docs.entries()) {
      const where = `${file}#${di}`;
      if (doc.errors.length) {
        errors.push(`${where}: YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
        continue;
      }
      const o = doc.toJSON() as unknown;
      if (o === null || o === undefined) continue; // empty document
      if (!isObj(o)) {
        errors.push(`${where}: a manifest must be a mapping`);
        continue;
      }
      const errs: string[] = [];
      const meta = o.metadata;
      if (!isObj(meta) || typeof meta.name !== 'string' || meta.name === '') errs.push('metadata.name: required');
      const ns = isObj(meta) && typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : 'default';
      const label = `${o.kind ?? '?'} ${ns}/${isObj(meta) ? meta.name : '?'}`;
      const want = o.kind === ENDPOINT_KIND ? ENDPOINT_API : o.kind === 'Secret' ? 'v1' : NETWORKING_API;
      let secret: SecretDoc | undefined;
      if (o.apiVersion !== want) errs.push(`apiVersion: must be ${want} for kind ${o.kind}`);
      switch (o.kind) {
        case 'ModelRoute':
          checkModelRoute(o, errs);
          break;
        case 'ModelServer':
          checkModelServer(o, errs);
          break;
        case 'ExternalModelProvider':
          if (!isObj(o.spec)) errs.push('spec: required');
          break;
        case ENDPOINT_KIND:
          checkEndpoint(o, errs);
          break;
        case 'Secret': {
          const r = secretFromObject(o);
          if (r.error) errs.push(r.error);
          secret = r.secret;
          break;
        }
        default:
          errs.push(
            `kind: unsupported kind ${JSON.stringify(o.kind)} (want ModelRoute, ModelServer, ExternalModelProvider, Secret or ${ENDPOINT_KIND})`,
          );
      }
      const ours = o.kind === ENDPOINT_KIND || o.kind === 'Secret';
      if (!ours && errs.every((e) => !e.startsWith('kind:'))) errs.push(...apiProblems(o, errs));
      if (!errs.length && extra && !ours) errs.push(...extra(o));
      if (errs.length) {
        errors.push(...errs.map((e) => `${where} ${label}: ${e}`));
        continue;
      }
      const id = `${o.kind}/${ns}/${meta.name}`;
      if (seen.has(id)) {
        errors.push(`${where} ${label}: defined twice`);
        continue;
      }
      seen.add(id);
      if (secret) {
        secrets.push(secret);
        continue;
      }
      const m = { ...meta, namespace: ns };
      const d = o.kind === ENDPOINT_KIND ? o : (applyDefaults(o) as Record<string, any>);
      if (o.kind === ENDPOINT_KIND) {
        const ep: EndpointSpec = {
          namespace: ns,
          name: meta.name,
          address: o.spec.address,
          port: o.spec.port,
          labels: { ...(meta.labels ?? {}) },
          ready: o.spec.ready ?? true,
        };
        snapshot.endpoints.push(ep);
      } else if (o.kind === 'ModelRoute') snapshot.routes.push({ ...(d as ModelRoute), metadata: m });
      else if (o.kind === 'ModelServer') snapshot.servers.push({ ...(d as ModelServer), metadata: m });
      else snapshot.providers.push({ ...(d as ExternalModelProvider), metadata: m });
    }
  }
  return { snapshot, errors, secrets };
}
