// Our annotations on upstream's networking kinds (decision 0003): the route fallback policy on ModelRoute and the
// provider options on ExternalModelProvider. Checked here so `kthena validate`, the file source and the Kubernetes
// source reject a typo with its path instead of silently ignoring it.
import { RESERVED_PROVIDER_HEADERS } from '../networking.js';
import type { PathSeg, ProblemSink } from '../problems.js';
import { parseDurationMs } from '../values.js';
import { list, obj, str } from './util.js';

const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
export const FALLBACK_REASONS = ['saturated', 'failing', 'unavailable'] as const;

const at = (key: string): PathSeg[] => ['metadata', 'annotations', { key }];

export function fallbackAnnotationRules(route: Record<string, any>, sink: ProblemSink): void {
  const ann = obj(obj(route.metadata)?.annotations) ?? {};
  const provider = str(ann['fallback.kthena.io/provider']);
  const others = [
    'fallback.kthena.io/on',
    'fallback.kthena.io/max-inflight-per-endpoint',
    'fallback.kthena.io/max-waiting-per-endpoint',
  ];
  if (provider === undefined) {
    for (const k of others)
      if (ann[k] !== undefined) sink.error(at(k), 'has no effect without fallback.kthena.io/provider');
    return;
  }
  if (!DNS_SUBDOMAIN.test(provider.trim()) || provider.length > 253)
    sink.error(
      at('fallback.kthena.io/provider'),
      "must be the name of an ExternalModelProvider in the route's namespace",
    );
  const on = str(ann['fallback.kthena.io/on']);
  if (on !== undefined) {
    const items = on
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    if (!items.length) sink.error(at('fallback.kthena.io/on'), `lists no reason (want ${FALLBACK_REASONS.join(', ')})`);
    for (const r of items)
      if (!(FALLBACK_REASONS as readonly string[]).includes(r))
        sink.error(at('fallback.kthena.io/on'), `unknown reason "${r}" (want ${FALLBACK_REASONS.join(', ')})`);
  }
  for (const k of others.slice(1)) {
    const v = ann[k];
    if (v !== undefined && !(typeof v === 'string' && /^[1-9]\d*$/.test(v.trim())))
      sink.error(at(k), 'must be a positive integer');
  }
  const external = list(obj(route.spec)?.rules).some((r) =>
    list(obj(r)?.targetModels).some((t) => str(obj(t)?.externalModelProviderName)),
  );
  if (external)
    sink.warn(
      at('fallback.kthena.io/provider'),
      'applies only to in-cluster targets (modelServerName), not to provider targets',
    );
}

export function providerAnnotationRules(provider: Record<string, any>, sink: ProblemSink): void {
  const ann = obj(obj(provider.metadata)?.annotations) ?? {};
  for (const k of ['provider.kthena.io/timeout', 'provider.kthena.io/idle-timeout']) {
    const v = str(ann[k]);
    if (v === undefined) continue;
    const ms = parseDurationMs(v.trim());
    if (ms === undefined) sink.error(at(k), `${JSON.stringify(v)} is not a duration (examples: "30s", "500ms")`);
    else if (ms <= 0) sink.error(at(k), 'must be a positive duration');
  }
  const ca = str(ann['provider.kthena.io/ca-bundle']);
  if (ca !== undefined) {
    const t = ca.trim();
    const pem = t.startsWith('-----BEGIN') ? t : Buffer.from(t.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----'))
      sink.error(at('provider.kthena.io/ca-bundle'), 'must be PEM certificates, or base64 of PEM');
  }
  const fwd = str(ann['provider.kthena.io/forward-headers']);
  if (fwd !== undefined) {
    const reserved = new Set<string>(RESERVED_PROVIDER_HEADERS);
    for (const raw of fwd.split(',')) {
      const h = raw.trim();
      if (!h) continue;
      if (!HEADER_TOKEN.test(h))
        sink.error(at('provider.kthena.io/forward-headers'), `"${h}" is not a valid header name`);
      else if (reserved.has(h.toLowerCase()))
        sink.error(at('provider.kthena.io/forward-headers'), `${h} is reserved and never forwarded to a provider`);
    }
  }
}
