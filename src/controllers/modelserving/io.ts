// The slice of the src/kube runtime the ModelServing controller uses, as structural interfaces: KubeClient,
// Informer and WorkQueue of src/kube satisfy them, and so can small fakes in unit tests.
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';

export interface ResourceRefLike {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
  kind: string;
}

export interface ObjectLike {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export interface KubeClientLike {
  get<T>(ref: ResourceRefLike, name: string, namespace?: string): Promise<T>;
  create<T extends ObjectLike>(ref: ResourceRefLike, obj: T, opts?: { namespace?: string }): Promise<T>;
  replace<T extends ObjectLike>(ref: ResourceRefLike, obj: T, opts?: { subresource?: 'status' | 'scale' }): Promise<T>;
  delete(
    ref: ResourceRefLike,
    name: string,
    namespace?: string,
    opts?: { propagationPolicy?: 'Foreground' | 'Background' | 'Orphan'; preconditions?: { uid?: string } },
  ): Promise<unknown>;
}

export interface StoreLike<T> {
  get(namespace: string | undefined, name: string): T | undefined;
  list(namespace?: string): T[];
  byIndex(index: string, value: string): T[];
  hasSynced(): boolean;
}

export interface InformerLike<T> extends StoreLike<T> {
  on(ev: 'add', cb: (o: T) => void): void;
  on(ev: 'update', cb: (oldObj: T, newObj: T) => void): void;
  on(ev: 'delete', cb: (o: T) => void): void;
}

export interface WorkQueueLike<K> {
  add(k: K): void;
  addAfter(k: K, ms: number): void;
  addRateLimited(k: K): void;
  forget(k: K): void;
  get(): Promise<K | undefined>;
  done(k: K): void;
  shutDown(): void;
  len(): number;
}

/** Kubernetes API errors carry the HTTP status (KubeApiError of src/kube does). */
export function httpStatus(err: unknown): number | undefined {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : undefined;
}
export const isNotFound = (e: unknown) => httpStatus(e) === 404;
export const isAlreadyExists = (e: unknown) =>
  httpStatus(e) === 409 && (e as { reason?: string }).reason === 'AlreadyExists';
export const isConflict = (e: unknown) =>
  httpStatus(e) === 409 && (e as { reason?: string }).reason !== 'AlreadyExists';
