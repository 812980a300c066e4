// Recording core/v1 Events (what `kubectl describe` shows under "Events"). Repeats of the same event for the same
// object are aggregated the way client-go's recorder does it in the common case: the first occurrence creates an
// Event, later ones bump its `count` and `lastTimestamp` with a merge patch. Recording is best effort: failures are
// logged, never thrown, so a controller never fails a reconcile because an Event could not be written.
import type { KubeClient } from './client.js';
import { type Clock, realClock } from './clock.js';
import { isNotFound } from './errors.js';
import { type KubeLogger, silentLogger } from './log.js';
import { EVENTS, type KubeObject } from './resource.js';

export interface ObjectReference {
  kind?: string;
  apiVersion?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  /** source.component / reportingComponent, e.g. "kthena-scheduler". */
  component: string;
  /** source.host / reportingInstance. */
  host?: string;
  clock?: Clock;
  log?: KubeLogger;
  /** How many distinct events to remember for aggregation (oldest forgotten first). Default 4096. */
  maxCache?: number;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
}

/** metav1.Time: RFC 3339 in whole seconds. */
function timeString(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Accepts an object (its metadata is used) or an ObjectReference. */
export function referenceTo(o: KubeObject | ObjectReference): ObjectReference {
  if ('metadata' in o && o.metadata) {
    const md = o.metadata;
    return {
      kind: o.kind,
      apiVersion: o.apiVersion,
      namespace: md.namespace,
      name: md.name,
      uid: md.uid,
      resourceVersion: md.resourceVersion,
    };
  }
  return o as ObjectReference;
}

export class EventRecorder {
  private readonly clock: Clock;
  private readonly log: KubeLogger;
  private readonly maxCache: number;
  private readonly seen = new Map<string, Seen>();
  /** Per-key chain so concurrent repeats of one event are applied in order (one create, then patches). */
  private readonly chains = new Map<string, Promise<void>>();
  private seq = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: EventRecorderOptions,
  ) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.log ?? silentLogger;
    this.maxCache = opts.maxCache ?? 4096;
  }

  /** Records one occurrence. Resolves when it has been written (or the write failed and was logged). */
  record(involved: KubeObject | ObjectReference, type: EventType, reason: string, message: string): Promise<void> {
    const ref = referenceTo(involved);
    const key = JSON.stringify([ref.kind, ref.namespace, ref.name, ref.uid, type, reason, message]);
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(() => this.write(key, ref, type, reason, message));
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    return next;
  }

  private async write(
    key: string,
    ref: ObjectReference,
    type: EventType,
    reason: string,
    message: string,
  ): Promise<void> {
    const now = this.clock.now();
    const seen = this.seen.get(key);
    try {
      if (seen) {
        try {
          await this.client.patch(
            EVENTS,
            seen.name,
            seen.namespace,
            { count: seen.count + 1, lastTimestamp: timeString(now) },
            'merge',
          );
          seen.count++;
          this.remember(key, seen);
          return;
        } catch (e) {
          if (!isNotFound(e)) throw e;
          // The Event expired (TTL) or was deleted: start a new one.
        }
      }
      const namespace = ref.namespace || 'default';
      // client-go names events <object>.<hex nanoseconds>; the sequence keeps names unique within one millisecond.
      const nanos = BigInt(now) * 1_000_000n + BigInt(this.seq++ % 1_000_000);
      const name = `${ref.name ?? 'unknown'}.${nanos.toString(16)}`;
      await this.client.create(EVENTS, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: ref,
        reason,
        message,
        type,
        source: { component: this.opts.component, ...(this.opts.host ? { host: this.opts.host } : {}) },
        reportingComponent: this.opts.component,
        reportingInstance: this.opts.host ?? '',
        firstTimestamp: timeString(now),
        lastTimestamp: timeString(now),
        count: 1,
      } as KubeObject);
      this.remember(key, { name, namespace, count: 1 });
    } catch (e) {
      this.log.warn(
        { reason, object: `${ref.namespace ?? ''}/${ref.name ?? ''}`, err: (e as Error).message },
        'could not record event',
      );
    }
  }

  private remember(key: string, s: Seen): void {
    this.seen.delete(key);
    this.seen.set(key, s);
    if (this.seen.size > this.maxCache) this.seen.delete(this.seen.keys().next().value!);
  }
}

const defaultRecorders = new WeakMap<KubeClient, EventRecorder>();

/**
 * Records an Event with a recorder shared per client (component "kthena" unless `opts` says otherwise on first
 * use). Never throws.
 */
export function recordEvent(
  client: KubeClient,
  involvedObject: KubeObject | ObjectReference,
  type: EventType,
  reason: string,
  message: string,
  opts?: Partial<EventRecorderOptions>,
): Promise<void> {
  let r = defaultRecorders.get(client);
  if (!r) {
    r = new EventRecorder(client, { component: 'kthena', ...opts });
    defaultRecorders.set(client, r);
  }
  return r.record(involvedObject, type, reason, message);
}
