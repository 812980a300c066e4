// Semantic rules of ModelBooster (upstream's validating webhook): worker types per backend, one engine port,
// pvc:// model/cache consistency, prefill/decode KV connector consistency.

import { autoscalingRequest } from '../modelbooster-options.js';
import type { PathSeg, ProblemSink } from '../problems.js';
import { list, obj, str } from './util.js';

const KV_CONNECTORS: Record<string, string> = {
  MooncakeConnector: 'mooncake',
  MooncakeConnectorV1: 'mooncake',
  NixlConnector: 'nixl',
  LMCacheConnectorV1: 'lmcache',
};
const ENGINE_WORKERS = new Set(['server', 'prefill', 'decode']);

function workerImageProblem(image: unknown): string | undefined {
  if (typeof image !== 'string' || image === '') return undefined;
  if (/\s/.test(image)) return `${JSON.stringify(image)} must not contain whitespace`;
  return undefined;
}

function portOf(config: Record<string, any> | undefined): { port?: number; error?: string } {
  const raw = config?.port;
  if (raw === undefined) return {};
  const n =
    typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    return { error: `must be a port between 1 and 65535, got ${JSON.stringify(raw)}` };
  return { port: n };
}

export function modelBoosterRules(mb: Record<string, any>, sink: ProblemSink): void {
  const scaling = autoscalingRequest(obj(obj(mb.metadata)?.annotations) as Record<string, string> | undefined);
  if (!scaling.ok) sink.error(scaling.path, scaling.message);
  const backend = obj(obj(mb.spec)?.backend);
  if (!backend) return;
  const bp: PathSeg[] = ['spec', 'backend'];
  const type = str(backend.type);
  const workers = list(backend.workers);

  workers.forEach((w, i) => {
    const wo = obj(w);
    const p = workerImageProblem(wo?.image);
    if (p) sink.error([...bp, 'workers', i, 'image'], p);
    if (wo?.config !== undefined && !obj(wo.config)) {
      sink.error([...bp, 'workers', i, 'config'], 'must be a map of engine arguments, e.g. {max-model-len: 2048}');
    }
  });

  const types = workers.map((w) => str(obj(w)?.type) ?? 'server');
  if (type === 'vLLM' || type === 'SGLang') {
    if (workers.length !== 1 || types[0] !== 'server') {
      sink.error(
        [...bp, 'workers'],
        `a ${type} backend needs exactly one worker of type server, got ${workers.length === 0 ? 'none' : types.join(', ')}`,
      );
    }
    if (type === 'SGLang' && Number(obj(workers[0])?.pods ?? 1) > 1)
      sink.error([...bp, 'workers', 0, 'pods'], 'a multi-node SGLang server is not generated yet: pods must be 1');
  } else if (type === 'vLLMDisaggregated' || type === 'SGLangDisaggregated') {
    types.forEach((t, i) => {
      if (t !== 'prefill' && t !== 'decode') {
        sink.error([...bp, 'workers', i, 'type'], `a ${type} backend only takes prefill and decode workers, got ${t}`);
      }
    });
    for (const role of ['prefill', 'decode']) {
      const n = types.filter((t) => t === role).length;
      if (n === 0) sink.error([...bp, 'workers'], `a ${type} backend needs a ${role} worker`);
      if (n > 1) sink.error([...bp, 'workers'], `a ${type} backend takes at most one ${role} worker, got ${n}`);
    }
  }

  // All engine workers must agree on one port (default 8000).
  let port: number | undefined;
  let portAt = -1;
  workers.forEach((w, i) => {
    const wo = obj(w);
    if (!ENGINE_WORKERS.has(types[i])) return;
    const r = portOf(obj(wo?.config));
    const pp: PathSeg[] = [...bp, 'workers', i, 'config', 'port'];
    if (r.error) sink.error(pp, r.error);
    const effective = r.port ?? (r.error ? undefined : 8000);
    if (effective === undefined) return;
    if (port === undefined) {
      port = effective;
      portAt = i;
    } else if (port !== effective) {
      sink.error(
        pp,
        `engine port ${effective} differs from ${port} of workers[${portAt}]; all engine workers must use the same port`,
      );
    }
  });

  checkPvc(backend, bp, sink);
  checkKvConnectors(workers, types, bp, sink);
}

function checkPvc(backend: Record<string, any>, bp: PathSeg[], sink: ProblemSink): void {
  const model = str(backend.modelURI);
  if (!model?.startsWith('pvc://')) return;
  const cache = str(backend.cacheURI) ?? '';
  if (!cache.startsWith('pvc://')) {
    sink.error([...bp, 'cacheURI'], 'must be a pvc:// URI when modelURI is pvc:// (the model is read from that claim)');
    return;
  }
  const rest = model.slice('pvc://'.length);
  if (rest.split('/').includes('..')) {
    sink.error([...bp, 'modelURI'], 'must not contain ".." path segments');
    return;
  }
  const claim = cache.slice('pvc://'.length).replace(/^\/+|\/+$/g, '');
  if (claim === '' || claim.includes('/')) {
    sink.error([...bp, 'cacheURI'], 'must be pvc://CLAIM with a claim name and no further path');
    return;
  }
  const cleaned = `/${rest.replace(/^\/+/, '')}`.replace(/\/+$/, '') || '/';
  if (cleaned !== `/${claim}` && !cleaned.startsWith(`/${claim}/`)) {
    sink.error([...bp, 'modelURI'], `must point inside the cache claim: expected pvc:///${claim}/PATH, got ${model}`);
  }
}

function checkKvConnectors(workers: any[], types: string[], bp: PathSeg[], sink: ProblemSink): void {
  const sides: Partial<Record<'prefill' | 'decode', { connector: string; index: number }>> = {};
  workers.forEach((w, i) => {
    const t = types[i];
    if (t !== 'prefill' && t !== 'decode') return;
    const raw = obj(obj(w)?.config)?.['kv-transfer-config'];
    if (raw === undefined) return;
    const kp: PathSeg[] = [...bp, 'workers', i, 'config', 'kv-transfer-config'];
    let cfg: Record<string, any> | undefined;
    if (typeof raw === 'string') {
      try {
        cfg = obj(JSON.parse(raw));
      } catch {
        sink.error(kp, 'must be a JSON string such as \'{"kv_connector":"NixlConnector","kv_role":"kv_both"}\'');
        return;
      }
    } else cfg = obj(raw);
    if (!cfg) {
      sink.error(kp, 'must be a JSON object with kv_connector and kv_role');
      return;
    }
    const name = str(cfg.kv_connector);
    const connector = name ? KV_CONNECTORS[name] : undefined;
    if (!connector) {
      sink.error(
        kp,
        `kv_connector ${JSON.stringify(cfg.kv_connector)} is not supported (use ${Object.keys(KV_CONNECTORS).join(', ')})`,
      );
      return;
    }
    const role = str(cfg.kv_role);
    const allowed = t === 'prefill' ? ['kv_producer', 'kv_both'] : ['kv_consumer', 'kv_both'];
    if (!role || !allowed.includes(role)) {
      sink.error(kp, `kv_role of a ${t} worker must be ${allowed.join(' or ')}, got ${JSON.stringify(cfg.kv_role)}`);
    }
    sides[t] = { connector, index: i };
  });
  const { prefill, decode } = sides;
  if (prefill && !decode && types.includes('decode')) {
    sink.error(
      [...bp, 'workers', types.indexOf('decode'), 'config', 'kv-transfer-config'],
      'is required because the prefill worker sets one',
    );
  } else if (decode && !prefill && types.includes('prefill')) {
    sink.error(
      [...bp, 'workers', types.indexOf('prefill'), 'config', 'kv-transfer-config'],
      'is required because the decode worker sets one',
    );
  } else if (prefill && decode && prefill.connector !== decode.connector) {
    sink.error(
      [...bp, 'workers', decode.index, 'config', 'kv-transfer-config'],
      `connector ${decode.connector} differs from the prefill worker's ${prefill.connector}; both sides must use the same connector`,
    );
  }
}
