// Dynamic admission: ValidatingWebhookConfiguration and MutatingWebhookConfiguration (admissionregistration.k8s.io/v1)
// are honoured on create and update, as kube-apiserver does — mutating webhooks first (their JSON patches applied
// in turn), then schema validation, then validating webhooks. Webhooks are reached by clientConfig.url (https, or
// http on a loopback address); a Service reference cannot be reached from a local API server and counts as a
// failed call, which failurePolicy decides.
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import { ApiError, cause, type StatusCause } from './errors.js';
import { jsonPatch } from './patch.js';
import type { ResourceType } from './types.js';
import type { Obj } from './util.js';

export const VALIDATING_RK = 'admissionregistration.k8s.io/validatingwebhookconfigurations';
export const MUTATING_RK = 'admissionregistration.k8s.io/mutatingwebhookconfigurations';

export type Operation = 'CREATE' | 'UPDATE';

export interface AdmissionAttributes {
  t: ResourceType;
  version: string;
  operation: Operation;
  object: Obj;
  oldObject?: Obj;
  namespace?: string;
  dryRun?: boolean;
  /** warnings returned to the client (kubectl prints them) */
  warnings?: string[];
}

interface Webhook {
  name: string;
  clientConfig?: { url?: string; service?: { name?: string; namespace?: string }; caBundle?: string };
  rules?: {
    apiGroups?: string[];
    apiVersions?: string[];
    operations?: string[];
    resources?: string[];
    scope?: string;
  }[];
  failurePolicy?: 'Fail' | 'Ignore';
  timeoutSeconds?: number;
}

const has = (list: string[] | undefined, v: string) => (list ?? []).some((x) => x === '*' || x === v);

/** Does one webhook want this request? (group, version, resource, operation and scope; selectors are not read) */
export function webhookMatches(w: Webhook, a: Pick<AdmissionAttributes, 't' | 'version' | 'operation'>): boolean {
  return (w.rules ?? []).some((r) => {
    const scope = r.scope ?? '*';
    const scopeOk = scope === '*' || (scope === 'Namespaced') === a.t.namespaced;
    return (
      scopeOk &&
      has(r.operations, a.operation) &&
      has(r.apiGroups, a.t.group) &&
      has(r.apiVersions, a.version) &&
      has(r.resources, a.t.plural)
    );
  });
}

/** http only towards this machine; anything else must be https (kube-apiserver requires https everywhere). */
export function webhookUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'must be a valid URL';
  }
  if (u.protocol === 'https:') return undefined;
  const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(u.hostname);
  if (u.protocol === 'http:' && loopback) return undefined;
  return 'must use https (http is accepted only for loopback addresses on the local API server)';
}

/** Field checks of a webhook configuration on create/update. */
export function validateWebhookConfiguration(o: Obj): StatusCause[] {
  const out: StatusCause[] = [];
  const hooks = Array.isArray(o.webhooks) ? o.webhooks : [];
  const names = new Set<string>();
  hooks.forEach((w: Obj, i: number) => {
    const p = `webhooks[${i}]`;
    if (typeof w?.name !== 'string' || !w.name) out.push(cause.required(`${p}.name`, 'name is required'));
    else if (names.has(w.name)) out.push(cause.invalid(`${p}.name`, w.name, 'duplicate webhook name'));
    else names.add(w.name);
    const cc = w?.clientConfig ?? {};
    if (!cc.url === !cc.service)
      out.push(cause.required(`${p}.clientConfig`, 'exactly one of url or service is required'));
    if (typeof cc.url === 'string') {
      const problem = webhookUrlProblem(cc.url);
      if (problem) out.push(cause.invalid(`${p}.clientConfig.url`, cc.url, problem));
    }
    if (w?.failurePolicy !== undefined && !['Fail', 'Ignore'].includes(w.failurePolicy))
      out.push(cause.invalid(`${p}.failurePolicy`, w.failurePolicy, 'supported values: "Fail", "Ignore"'));
  });
  return out;
}

interface ReviewResponse {
  uid?: string;
  allowed?: boolean;
  status?: { code?: number; message?: string; reason?: string };
  patch?: string;
  patchType?: string;
  warnings?: string[];
}

function review(a: AdmissionAttributes, object: Obj) {
  const kind = { group: a.t.group, version: a.version, kind: a.t.kind };
  const resource = { group: a.t.group, version: a.version, resource: a.t.plural };
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: randomUUID(),
      kind,
      resource,
      requestKind: kind,
      requestResource: resource,
      name: object.metadata?.name,
      namespace: a.t.namespaced ? a.namespace : undefined,
      operation: a.operation,
      userInfo: { username: 'kthena-local-admin', groups: ['system:masters', 'system:authenticated'] },
      object,
      oldObject: a.oldObject ?? null,
      dryRun: !!a.dryRun,
      options: { apiVersion: 'meta.k8s.io/v1', kind: a.operation === 'CREATE' ? 'CreateOptions' : 'UpdateOptions' },
    },
  };
}

const agents = new Map<string, Agent>();
function agentFor(caBundle: string | undefined): Agent | undefined {
  if (!caBundle) return undefined;
  let a = agents.get(caBundle);
  if (!a) {
    a = new Agent({ connect: { ca: Buffer.from(caBundle, 'base64').toString('utf8') } });
    agents.set(caBundle, a);
  }
  return a;
}

async function callWebhook(w: Webhook, body: unknown): Promise<ReviewResponse> {
  const url = w.clientConfig?.url;
  if (!url) throw new Error('service references are not reachable from the local API server; use clientConfig.url');
  const timeout = Math.min(30, Math.max(1, w.timeoutSeconds ?? 10)) * 1000;
  const r = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
    headersTimeout: timeout,
    bodyTimeout: timeout,
    dispatcher: agentFor(w.clientConfig?.caBundle),
  });
  const text = await r.body.text();
  if (r.statusCode !== 200) throw new Error(`the server responded with ${r.statusCode}: ${text.slice(0, 300)}`);
  const parsed = JSON.parse(text) as { response?: ReviewResponse };
  if (!parsed.response || typeof parsed.response.allowed !== 'boolean')
    throw new Error('the webhook answered without response.allowed');
  return parsed.response;
}

function denied(w: Webhook, res: ReviewResponse): ApiError {
  const code = res.status?.code && res.status.code >= 400 && res.status.code < 600 ? res.status.code : 400;
  const reason = res.status?.reason || (code === 403 ? 'Forbidden' : code === 422 ? 'Invalid' : 'BadRequest');
  return new ApiError(
    code,
    reason,
    `admission webhook "${w.name}" denied the request: ${res.status?.message ?? 'denied'}`,
  );
}

function callFailed(w: Webhook, err: unknown): ApiError {
  return new ApiError(
    500,
    'InternalError',
    `Internal error occurred: failed calling webhook "${w.name}": failed to call webhook: ${(err as Error).message}`,
  );
}

/** The webhooks of all configurations of one kind that match this request, in configuration-name order. */
function matching(configs: Obj[], a: AdmissionAttributes): Webhook[] {
  return configs
    .flatMap((c) => (Array.isArray(c.webhooks) ? (c.webhooks as Webhook[]) : []))
    .filter((w) => webhookMatches(w, a));
}

export class WebhookAdmission {
  constructor(private readonly list: (rk: string) => Obj[]) {}

  /** Is any webhook registered for this request? (callers then re-check for races after the calls) */
  wants(a: Omit<AdmissionAttributes, 'object'>): boolean {
    const all = [...this.list(MUTATING_RK), ...this.list(VALIDATING_RK)];
    return matching(all, a as AdmissionAttributes).length > 0;
  }

  /** Runs the mutating webhooks in turn; returns the patched object (the same one when nothing changed). */
  async mutate(a: AdmissionAttributes): Promise<Obj> {
    let obj = a.object;
    for (const w of matching(this.list(MUTATING_RK), a)) {
      let res: ReviewResponse;
      try {
        res = await callWebhook(w, review(a, obj));
      } catch (err) {
        if (w.failurePolicy === 'Ignore') continue;
        throw callFailed(w, err);
      }
      if (!res.allowed) throw denied(w, res);
      a.warnings?.push(...(res.warnings ?? []));
      if (res.patch && (res.patchType ?? 'JSONPatch') === 'JSONPatch') {
        try {
          obj = jsonPatch(obj, JSON.parse(Buffer.from(res.patch, 'base64').toString('utf8'))) as Obj;
        } catch (err) {
          throw callFailed(w, new Error(`its JSON patch does not apply: ${(err as Error).message}`));
        }
      }
    }
    return obj;
  }

  /** Runs the validating webhooks; the first denial is the error. */
  async validate(a: AdmissionAttributes): Promise<void> {
    for (const w of matching(this.list(VALIDATING_RK), a)) {
      let res: ReviewResponse;
      try {
        res = await callWebhook(w, review(a, a.object));
      } catch (err) {
        if (w.failurePolicy === 'Ignore') continue;
        throw callFailed(w, err);
      }
      a.warnings?.push(...(res.warnings ?? []));
      if (!res.allowed) throw denied(w, res);
    }
  }
}
