// Semantic rules of ModelRoute, ModelServer and ExternalModelProvider: upstream's CEL rules and the checks of
// the router's validating webhook.
import { RESERVED_PROVIDER_HEADERS } from '../networking.js';
import type { PathSeg, ProblemSink } from '../problems.js';
import { fallbackAnnotationRules, providerAnnotationRules } from './kthena-annotations.js';
import { labelValueProblem, qualifiedNameProblem } from './metadata.js';
import { compileRe2, entries, int, list, obj, str } from './util.js';

const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function checkStringMatch(m: unknown, path: PathSeg[], sink: ProblemSink): void {
  const sm = obj(m);
  if (!sm) return;
  const set = (['exact', 'prefix', 'regex'] as const).filter((k) => sm[k] !== undefined);
  if (set.length > 1) sink.error(path, `set exactly one of exact, prefix or regex, not ${set.join(' and ')}`);
  else if (set.length === 0) sink.warn(path, 'no exact, prefix or regex: this matcher matches everything');
  const re = str(sm.regex);
  if (re !== undefined) {
    const c = compileRe2(re);
    if ('error' in c) sink.error([...path, 'regex'], `invalid regular expression ${JSON.stringify(re)}: ${c.error}`);
  }
}

export function checkModelMatch(mm: unknown, path: PathSeg[], sink: ProblemSink): void {
  const m = obj(mm);
  if (!m) return;
  for (const [name, matcher] of entries(m.headers)) {
    const hp: PathSeg[] = [...path, 'headers', { key: name }];
    if (!HEADER_TOKEN.test(name)) sink.error(hp, `${JSON.stringify(name)} is not a valid HTTP header name`);
    checkStringMatch(matcher, hp, sink);
  }
  if (m.uri !== undefined) checkStringMatch(m.uri, [...path, 'uri'], sink);
}

export function modelRouteRules(route: Record<string, any>, sink: ProblemSink): void {
  fallbackAnnotationRules(route, sink);
  const spec = obj(route.spec);
  if (!spec) return;
  const lora = list(spec.loraAdapters);
  if ((spec.modelName === undefined || spec.modelName === '') && lora.length === 0) {
    sink.error('spec', 'ModelName and LoraAdapters cannot both be empty: set spec.modelName or list spec.loraAdapters');
  }
  lora.forEach((a, i) => {
    if (a === '') sink.error(['spec', 'loraAdapters', i], 'must not be empty');
  });
  list(spec.rules).forEach((rule, i) => {
    const r = obj(rule);
    if (!r) return;
    const rp: PathSeg[] = ['spec', 'rules', i];
    if (r.modelMatch !== undefined) checkModelMatch(r.modelMatch, [...rp, 'modelMatch'], sink);
    const targets = list(r.targetModels);
    let total = 0;
    targets.forEach((t, j) => {
      const tm = obj(t);
      if (!tm) return;
      const tp: PathSeg[] = [...rp, 'targetModels', j];
      const server = str(tm.modelServerName) ?? '';
      const provider = str(tm.externalModelProviderName) ?? '';
      if ((server === '') === (provider === '')) {
        sink.error(
          tp,
          server === ''
            ? 'set one of modelServerName or externalModelProviderName'
            : 'set only one of modelServerName or externalModelProviderName, not both',
        );
      }
      if (provider !== '' && lora.length > 0) {
        sink.error(
          [...tp, 'externalModelProviderName'],
          'an external provider cannot serve LoRA adapters: a route with loraAdapters must target ModelServers',
        );
      }
      total += int(tm.weight) ?? 100;
    });
    if (targets.length > 0 && total <= 0) {
      sink.error(
        [...rp, 'targetModels'],
        'the weights of this rule add up to 0: give at least one target a positive weight',
      );
    }
  });
  const rl = obj(spec.rateLimit);
  if (rl) {
    if (rl.inputTokensPerUnit === undefined && rl.outputTokensPerUnit === undefined) {
      sink.warn('spec.rateLimit', 'neither inputTokensPerUnit nor outputTokensPerUnit is set, so nothing is limited');
    }
    const address = str(obj(obj(rl.global)?.redis)?.address);
    if (address !== undefined && address !== '' && !isHostPort(address)) {
      sink.error(
        'spec.rateLimit.global.redis.address',
        `${JSON.stringify(address)} must be host:port, e.g. "redis.default.svc:6379"`,
      );
    }
  }
}

function isHostPort(s: string): boolean {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s/]+):(\d{1,5})$/.exec(s);
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
}

function checkLabels(labels: unknown, path: PathSeg[], sink: ProblemSink, what: string): void {
  const l = obj(labels);
  if (!l || Object.keys(l).length === 0) {
    sink.error(path, `must have at least one label: ${what}`);
    return;
  }
  for (const [k, v] of Object.entries(l)) {
    const kp = qualifiedNameProblem(k);
    if (kp) sink.error([...path, { key: k }], kp);
    if (typeof v === 'string') {
      const vp = labelValueProblem(v);
      if (vp) sink.error([...path, { key: k }], vp);
    }
  }
}

export function modelServerRules(server: Record<string, any>, sink: ProblemSink): void {
  const spec = obj(server.spec);
  if (!spec) return;
  const sel = obj(spec.workloadSelector);
  if (sel) {
    checkLabels(
      sel.matchLabels,
      ['spec', 'workloadSelector', 'matchLabels'],
      sink,
      'the ModelServer selects its pods by these labels',
    );
    const pd = obj(sel.pdGroup);
    if (pd) {
      const base: PathSeg[] = ['spec', 'workloadSelector', 'pdGroup'];
      if (str(pd.groupKey) === '')
        sink.error(
          [...base, 'groupKey'],
          'must not be empty: it names the pod label that pairs prefill with decode pods',
        );
      else if (typeof pd.groupKey === 'string') {
        const kp = qualifiedNameProblem(pd.groupKey);
        if (kp) sink.error([...base, 'groupKey'], kp);
      }
      checkLabels(pd.prefillLabels, [...base, 'prefillLabels'], sink, 'they pick the prefill pods');
      checkLabels(pd.decodeLabels, [...base, 'decodeLabels'], sink, 'they pick the decode pods');
    } else if (obj(spec.kvConnector)?.type !== undefined && obj(spec.kvConnector)?.type !== 'http') {
      sink.warn(
        'spec.kvConnector',
        'a KV connector only takes effect with workloadSelector.pdGroup (prefill/decode disaggregation)',
      );
    }
  }
  const timeout = str(obj(spec.trafficPolicy)?.timeout);
  if (timeout?.startsWith('-')) sink.error('spec.trafficPolicy.timeout', 'must not be negative');
}

export function externalModelProviderRules(provider: Record<string, any>, sink: ProblemSink): void {
  providerAnnotationRules(provider, sink);
  const spec = obj(provider.spec);
  if (!spec) return;
  const base = str(spec.baseURL);
  if (base !== undefined && base !== '') {
    let url: URL | undefined;
    try {
      url = new URL(base);
    } catch {
      sink.error('spec.baseURL', `${JSON.stringify(base)} is not a valid URL`);
    }
    if (url) {
      if (url.protocol !== 'https:')
        sink.error('spec.baseURL', 'must use https:// (credentials are never sent in clear text)');
      else if (url.hostname === '') sink.error('spec.baseURL', 'must name a host');
      if (url.username !== '' || url.password !== '') {
        sink.error(
          'spec.baseURL',
          'must not carry user:password@; put the credential in a Secret and reference it from spec.auth.secretRef',
        );
      }
      if (url.search !== '' || base.includes('?')) sink.error('spec.baseURL', 'must not have a query string');
      if (url.hash !== '' || base.includes('#')) sink.error('spec.baseURL', 'must not have a fragment');
    }
  }
  const reserved = new Set<string>(RESERVED_PROVIDER_HEADERS);
  for (const [name, value] of entries(spec.headers)) {
    const hp: PathSeg[] = ['spec', 'headers', { key: name }];
    if (!HEADER_TOKEN.test(name)) sink.error(hp, `${JSON.stringify(name)} is not a valid HTTP header name`);
    else if (reserved.has(name.toLowerCase())) {
      sink.error(
        hp,
        /authorization|cookie|x-api-key/i.test(name)
          ? `${name} is reserved: credentials come from spec.auth.secretRef, not from static headers`
          : `${name} is reserved: the router manages this header itself`,
      );
    }
    if (typeof value === 'string' && /[\r\n\0]/.test(value))
      sink.error(hp, 'header values must not contain CR, LF or NUL');
  }
  const ref = obj(obj(spec.auth)?.secretRef);
  if (ref?.optional === true) {
    sink.error(
      'spec.auth.secretRef.optional',
      'must not be true: a provider credential cannot be optional (drop spec.auth if none is needed)',
    );
  }
}
