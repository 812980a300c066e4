// Test support for the local API server e2e suites: raw HTTP requests, a line-reading watch client,
// and a CRD fixture with status/scale subresources, defaults and printer columns.
import { Agent, fetch } from 'undici';
import { type ApiServer, type ApiServerOptions, startApiServer } from '../../src/cluster/apiserver/index.js';

export type Json = Record<string, any>;

export interface Resp {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export async function startTestServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  return startApiServer({ port: 0, ...opts });
}

export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  opts: {
    contentType?: string;
    accept?: string;
    raw?: string;
    headers?: Record<string, string>;
    /** PEM CA of an https server (`kthena cluster` serves TLS with its own CA). */
    ca?: string;
  } = {},
): Promise<Resp> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.accept) headers.accept = opts.accept;
  let payload: string | undefined;
  if (opts.raw !== undefined) payload = opts.raw;
  else if (body !== undefined) payload = JSON.stringify(body);
  if (payload !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  const dispatcher = opts.ca ? new Agent({ connect: { ca: opts.ca } }) : undefined;
  const r = await fetch(base + path, { method, headers, body: payload, dispatcher });
  void dispatcher?.close();
  const text = await r.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: r.status, headers: r.headers, body: parsed, text };
}

export interface WatchStream {
  events: Json[];
  /** Resolves with the next event (waits up to timeoutMs). */
  next(timeoutMs?: number): Promise<Json>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
  contentType: string | null;
  rawLines: string[];
}

export async function watch(base: string, path: string, accept?: string): Promise<WatchStream> {
  const ac = new AbortController();
  const r = await fetch(base + path, { signal: ac.signal, headers: accept ? { accept } : {} });
  if (!r.body) throw new Error('no body');
  const events: Json[] = [];
  const rawLines: string[] = [];
  const waiters: (() => void)[] = [];
  let consumed = 0;
  let endResolve!: () => void;
  const ended = new Promise<void>((res) => {
    endResolve = res;
  });
  let done = false;
  void (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let i = buf.indexOf('\n');
        while (i >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          rawLines.push(line);
          if (line.trim()) events.push(JSON.parse(line));
          for (const w of waiters.splice(0)) w();
          i = buf.indexOf('\n');
        }
      }
    } catch {
      // aborted
    }
    done = true;
    for (const w of waiters.splice(0)) w();
    endResolve();
  })();
  return {
    events,
    rawLines,
    contentType: r.headers.get('content-type'),
    ended,
    close: () => ac.abort(),
    async next(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length <= consumed) {
        if (done) throw new Error('watch ended');
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no watch event within ${timeoutMs} ms`);
        await new Promise<void>((res) => {
          const t = setTimeout(res, left);
          waiters.push(() => {
            clearTimeout(t);
            res();
          });
        });
      }
      return events[consumed++];
    },
  };
}

export async function eventually<T>(
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const WIDGET_CRD: Json = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.test.kthena.io' },
  spec: {
    group: 'test.kthena.io',
    scope: 'Namespaced',
    names: { plural: 'widgets', kind: 'Widget', shortNames: ['wd'], categories: ['all'] },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: {
          status: {},
          scale: {
            specReplicasPath: '.spec.replicas',
            statusReplicasPath: '.status.replicas',
            labelSelectorPath: '.status.selector',
          },
        },
        additionalPrinterColumns: [
          { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
          { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          { name: 'Color', type: 'string', jsonPath: '.spec.color', priority: 1 },
        ],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['size'],
                properties: {
                  size: { type: 'integer', minimum: 0 },
                  replicas: { type: 'integer' },
                  color: { type: 'string', default: 'blue', enum: ['blue', 'red', 'green'] },
                  tags: { type: 'array', items: { type: 'string' } },
                  ports: {
                    type: 'array',
                    'x-kubernetes-list-type': 'map',
                    'x-kubernetes-list-map-keys': ['name'],
                    items: {
                      type: 'object',
                      required: ['name'],
                      properties: { name: { type: 'string' }, port: { type: 'integer' } },
                    },
                  },
                  extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                },
              },
              status: {
                type: 'object',
                properties: { phase: { type: 'string' }, replicas: { type: 'integer' }, selector: { type: 'string' } },
              },
            },
          },
        },
      },
    ],
  },
};

export const WIDGETS = '/apis/test.kthena.io/v1/namespaces/default/widgets';

export function widget(name: string, spec: Json = { size: 1 }, extra: Json = {}): Json {
  return {
    apiVersion: 'test.kthena.io/v1',
    kind: 'Widget',
    metadata: { name, ...(extra.metadata ?? {}) },
    spec,
    ...extra.body,
  };
}

export function pod(name: string, extra: Json = {}): Json {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...(extra.metadata ?? {}) },
    spec: {
      containers: [{ name: 'c', image: 'busybox:1.36', env: [{ name: 'A', value: '1' }] }],
      ...(extra.spec ?? {}),
    },
  };
}

export const PODS = '/api/v1/namespaces/default/pods';
export const CMS = '/api/v1/namespaces/default/configmaps';
