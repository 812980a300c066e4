// A small Kubernetes API client on undici. It speaks JSON to the REST API directly (not client-node's generated
// APIs): one undici Pool per API server, TLS and credentials from a kubeconfig or the in-cluster service account,
// errors as KubeApiError carrying the server's Status, and a watch that decodes the event stream incrementally.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as ClientNode from '@kubernetes/client-node';
import { Pool } from 'undici';
import { abortReason } from './clock.js';
import { KubeApiError } from './errors.js';
import { type KubeObject, type ResourceRef, resourcePath } from './resource.js';
import { parseWatchLine, type WatchEvent, WatchLineDecoder } from './watch-decoder.js';

export { KubeApiError } from './errors.js';

// client-node is loaded on first use, not at import: it is thousands of modules (seconds of start-up on a loaded
// machine), and every `kthena` subcommand imports this file — including the engine simulator that the local
// kubelet starts for each model pod, whose readiness would otherwise wait for a library it never uses.
let clientNode: typeof ClientNode | undefined;
function newKubeConfig(): ClientNode.KubeConfig {
  clientNode ??= createRequire(import.meta.url)('@kubernetes/client-node') as typeof ClientNode;
  return new clientNode.KubeConfig();
}

export type { WatchEvent, WatchEventType } from './watch-decoder.js';

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  // Server-side apply takes YAML; JSON is a subset of YAML, so we send JSON.
  apply: 'application/apply-patch+yaml',
};

export interface KubeClientOptions {
  /** API server URL, e.g. https://127.0.0.1:6443 (a path prefix is kept). */
  server: string;
  /** Extra static headers (e.g. Authorization). */
  headers?: Record<string, string>;
  /** Headers computed per request (exec plugins, rotating service-account tokens). */
  authHeaders?: () => Promise<Record<string, string>> | Record<string, string>;
  /** PEM strings. */
  ca?: string;
  cert?: string;
  key?: string;
  insecureSkipTLSVerify?: boolean;
  tlsServerName?: string;
  /** Timeout for ordinary (non-watch) requests, headers and body. Default 60 s. */
  requestTimeoutMs?: number;
  /** Namespace of the kubeconfig context (or the service account's); informational. */
  defaultNamespace?: string;
  userAgent?: string;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'NotOlderThan' | 'Exact';
  limit?: number;
  continue?: string;
  signal?: AbortSignal;
}

export interface ListResult<T> {
  items: T[];
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
}

export interface WatchOptions {
  namespace?: string;
  resourceVersion?: string;
  labelSelector?: string;
  fieldSelector?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  signal?: AbortSignal;
  /** Called for every chunk of bytes received, before decoding (the informer's watchdog counts it as activity). */
  onData?: () => void;
}

export interface DeleteOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  signal?: AbortSignal;
}

export interface RequestOptions {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

type Query = Record<string, string | number | boolean | undefined>;

function queryString(q: Query | undefined): string {
  if (!q) return '';
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') sp.set(k, String(v));
  const s = sp.toString();
  return s ? `?${s}` : '';
}

function readMaybe(file?: string, data?: string): string | undefined {
  if (data) return Buffer.from(data, 'base64').toString('utf8');
  if (file) return readFileSync(file, 'utf8');
  return undefined;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export class KubeClient {
  readonly server: string;
  readonly defaultNamespace: string | undefined;
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly staticHeaders: Record<string, string>;
  private readonly authHeaders?: KubeClientOptions['authHeaders'];
  private readonly timeoutMs: number;

  constructor(opts: KubeClientOptions) {
    const url = new URL(opts.server);
    this.server = opts.server;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.defaultNamespace = opts.defaultNamespace;
    this.timeoutMs = opts.requestTimeoutMs ?? 60_000;
    this.staticHeaders = {
      accept: 'application/json',
      'user-agent': opts.userAgent ?? 'kthena',
      ...Object.fromEntries(Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    };
    this.authHeaders = opts.authHeaders;
    const tls =
      url.protocol === 'https:'
        ? {
            ca: opts.ca,
            cert: opts.cert,
            key: opts.key,
            rejectUnauthorized: !opts.insecureSkipTLSVerify,
            servername: opts.tlsServerName,
          }
        : undefined;
    this.pool = new Pool(url.origin, { connect: tls, keepAliveTimeout: 30_000 });
  }

  /**
   * Loads a kubeconfig (the given file, else $KUBECONFIG / ~/.kube/config / in-cluster, as client-node resolves it).
   * client-node is used only to read the file and resolve credentials; requests go through undici.
   */
  static fromKubeconfig(path?: string, context?: string): KubeClient {
    const kc = newKubeConfig();
    if (path) kc.loadFromFile(path);
    else kc.loadFromDefault();
    if (context) kc.setCurrentContext(context);
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error(`kubeconfig${path ? ` ${path}` : ''}: no current cluster`);
    const user = kc.getCurrentUser();
    const headers: Record<string, string> = {};
    let authHeaders: KubeClientOptions['authHeaders'];
    if (user?.exec || user?.authProvider) {
      // Dynamic credentials (exec plugins, token files, OIDC): let client-node resolve them per request; it
      // caches exec results until they expire.
      authHeaders = async (): Promise<Record<string, string>> => {
        const o: { headers?: Record<string, string> } = { headers: {} };
        await kc.applyToHTTPSOptions(o as never);
        const auth = o.headers?.Authorization ?? o.headers?.authorization;
        return auth ? { authorization: auth } : {};
      };
    } else if (user?.token) {
      headers.authorization = `Bearer ${user.token}`;
    } else if (user?.username) {
      headers.authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
    }
    const ctx = kc.getContextObject(kc.getCurrentContext());
    return new KubeClient({
      server: cluster.server,
      headers,
      authHeaders,
      ca: readMaybe(cluster.caFile, cluster.caData),
      cert: readMaybe(user?.certFile, user?.certData),
      key: readMaybe(user?.keyFile, user?.keyData),
      insecureSkipTLSVerify: cluster.skipTLSVerify,
      tlsServerName: cluster.tlsServerName,
      defaultNamespace: ctx?.namespace,
    });
  }

  /**
   * The in-cluster configuration: KUBERNETES_SERVICE_HOST/PORT and the service-account token, CA and namespace.
   * The token file is re-read every minute because bound service-account tokens rotate.
   */
  static inCluster(opts: { dir?: string; env?: NodeJS.ProcessEnv } = {}): KubeClient {
    const env = opts.env ?? process.env;
    const dir = opts.dir ?? SA_DIR;
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT;
    if (!host || !port) throw new Error('not running in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set');
    const h = host.includes(':') ? `[${host}]` : host;
    let token = '';
    let readAt = Number.NEGATIVE_INFINITY;
    const authHeaders = () => {
      if (Date.now() - readAt > 60_000) {
        token = readFileSync(`${dir}/token`, 'utf8').trim();
        readAt = Date.now();
      }
      return { authorization: `Bearer ${token}` };
    };
    authHeaders(); // fail early (and clearly) when the token is missing
    let namespace: string | undefined;
    try {
      namespace = readFileSync(`${dir}/namespace`, 'utf8').trim();
    } catch {
      namespace = undefined;
    }
    return new KubeClient({
      server: `https://${h}:${port}`,
      ca: readFileSync(`${dir}/ca.crt`, 'utf8'),
      authHeaders,
      defaultNamespace: namespace,
    });
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Closes the connections at once, aborting requests in flight (watches included). */
  async destroy(): Promise<void> {
    await this.pool.destroy();
  }

  private async headersFor(contentType?: string): Promise<Record<string, string>> {
    const h: Record<string, string> = { ...this.staticHeaders };
    if (this.authHeaders) Object.assign(h, await this.authHeaders());
    if (contentType) h['content-type'] = contentType;
    return h;
  }

  /** One JSON request; non-2xx → KubeApiError with the server's Status. */
  async request<T>(o: RequestOptions): Promise<T> {
    const hasBody = o.body !== undefined;
    const path = this.basePath + o.path + queryString(o.query);
    const res = await this.pool.request({
      method: o.method,
      path,
      headers: await this.headersFor(hasBody ? (o.contentType ?? 'application/json') : undefined),
      body: hasBody ? JSON.stringify(o.body) : undefined,
      signal: o.signal,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300) {
      throw KubeApiError.fromResponse(res.statusCode, text, `${o.method} ${o.path}`);
    }
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new KubeApiError(res.statusCode, 'InvalidResponse', `${o.method} ${o.path}: response is not JSON`, text);
    }
  }

  async get<T = KubeObject>(
    ref: ResourceRef,
    name: string,
    namespace?: string,
    opts?: { signal?: AbortSignal },
  ): Promise<T> {
    return this.request<T>({ method: 'GET', path: this.objectPath(ref, name, namespace), signal: opts?.signal });
  }

  async list<T = KubeObject>(ref: ResourceRef, opts: ListOptions = {}): Promise<ListResult<T>> {
    return this.request<ListResult<T>>({
      method: 'GET',
      path: resourcePath(ref, opts.namespace),
      query: {
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        resourceVersion: opts.resourceVersion,
        resourceVersionMatch: opts.resourceVersionMatch,
        limit: opts.limit,
        continue: opts.continue,
      },
      signal: opts.signal,
    }).then((r) => ({
      items: r?.items ?? [],
      metadata: { ...(r?.metadata ?? {}), resourceVersion: r?.metadata?.resourceVersion ?? '' },
    }));
  }

  /** POST. With a subresource (e.g. pods/binding, pods/eviction) the object name comes from obj.metadata.name. */
  async create<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    obj: T,
    opts: { namespace?: string; subresource?: string; fieldManager?: string; signal?: AbortSignal } = {},
  ): Promise<T> {
    const ns = opts.namespace ?? obj.metadata?.namespace;
    const path = opts.subresource
      ? this.objectPath(ref, obj.metadata?.name ?? '', ns, opts.subresource)
      : resourcePath(ref, ref.namespaced ? this.requireNamespace(ref, ns) : undefined);
    return this.request<T>({
      method: 'POST',
      path,
      body: obj,
      query: { fieldManager: opts.fieldManager },
      signal: opts.signal,
    });
  }

  /** PUT of the whole object (optimistic concurrency through obj.metadata.resourceVersion). */
  async replace<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    obj: T,
    opts: { subresource?: 'status' | 'scale'; fieldManager?: string; signal?: AbortSignal } = {},
  ): Promise<T> {
    const path = this.objectPath(ref, obj.metadata?.name ?? '', obj.metadata?.namespace, opts.subresource);
    return this.request<T>({
      method: 'PUT',
      path,
      body: obj,
      query: { fieldManager: opts.fieldManager },
      signal: opts.signal,
    });
  }

  async patch<T = KubeObject>(
    ref: ResourceRef,
    name: string,
    namespace: string | undefined,
    patch: unknown,
    type: PatchType,
    opts: { subresource?: string; fieldManager?: string; force?: boolean; signal?: AbortSignal } = {},
  ): Promise<T> {
    if (type === 'apply' && !opts.fieldManager) throw new Error('server-side apply needs a fieldManager');
    return this.request<T>({
      method: 'PATCH',
      path: this.objectPath(ref, name, namespace, opts.subresource),
      body: patch,
      contentType: PATCH_CONTENT_TYPES[type],
      query: { fieldManager: opts.fieldManager, force: opts.force === undefined ? undefined : String(opts.force) },
      signal: opts.signal,
    });
  }

  async delete(ref: ResourceRef, name: string, namespace?: string, opts: DeleteOptions = {}): Promise<unknown> {
    const { signal, ...rest } = opts;
    const hasOpts = Object.values(rest).some((v) => v !== undefined);
    return this.request<unknown>({
      method: 'DELETE',
      path: this.objectPath(ref, name, namespace),
      body: hasOpts ? { kind: 'DeleteOptions', apiVersion: 'v1', ...rest } : undefined,
      signal,
    });
  }

  /**
   * Opens a watch and calls onEvent for each event, in order, as the bytes arrive. Resolves when the server ends
   * the stream; rejects with KubeApiError on a non-2xx answer, WatchDecodeError on a malformed line (the stream is
   * closed — nothing after a bad line can be trusted), the signal's reason on abort, or whatever onEvent throws.
   */
  async watch(ref: ResourceRef, opts: WatchOptions, onEvent: (e: WatchEvent) => void): Promise<void> {
    const path = resourcePath(ref, opts.namespace);
    const q = queryString({
      watch: 'true',
      resourceVersion: opts.resourceVersion,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      allowWatchBookmarks: opts.allowWatchBookmarks ? 'true' : undefined,
      timeoutSeconds: opts.timeoutSeconds,
    });
    const signal = opts.signal;
    let res: Awaited<ReturnType<Pool['request']>>;
    try {
      res = await this.pool.request({
        method: 'GET',
        path: this.basePath + path + q,
        headers: await this.headersFor(),
        signal,
        headersTimeout: this.timeoutMs,
        // The stream is legitimately quiet for long periods; the informer's watchdog decides when silence is a fault.
        bodyTimeout: 0,
      });
    } catch (e) {
      if (signal?.aborted) throw abortReason(signal);
      throw e;
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const text = await res.body.text().catch(() => '');
      throw KubeApiError.fromResponse(res.statusCode, text, `watch ${path}`);
    }
    const decoder = new WatchLineDecoder();
    try {
      for await (const chunk of res.body) {
        opts.onData?.();
        for (const line of decoder.push(chunk as Buffer)) onEvent(parseWatchLine(line));
      }
      for (const line of decoder.end()) onEvent(parseWatchLine(line));
    } catch (e) {
      res.body.destroy();
      if (signal?.aborted) throw abortReason(signal);
      throw e;
    }
  }

  private requireNamespace(ref: ResourceRef, namespace: string | undefined): string {
    if (!namespace) throw new Error(`${ref.plural} is namespaced: a namespace is required`);
    return namespace;
  }

  private objectPath(ref: ResourceRef, name: string, namespace: string | undefined, subresource?: string): string {
    if (!name) throw new Error(`${ref.plural}: an object name is required`);
    return resourcePath(ref, ref.namespaced ? this.requireNamespace(ref, namespace) : undefined, name, subresource);
  }
}
