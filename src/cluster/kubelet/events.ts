// core/v1 Events as the kubelet and the scheduler post them (so `kubectl describe pod` shows them).
// Fire-and-forget: an event that cannot be written is logged, never fatal.
import { randomBytes } from 'node:crypto';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { EVENTS, type KubeClient } from '../../kube/index.js';

export interface EventSource {
  component: string;
  host?: string;
}

export interface EventSpec {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  fieldPath?: string;
}

export function eventObject(
  involved: { kind: string; apiVersion: string; metadata?: Pod['metadata'] },
  e: EventSpec,
  source: EventSource,
  nowIso: string,
) {
  const name = involved.metadata?.name ?? 'unknown';
  const namespace = involved.metadata?.namespace ?? 'default';
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace },
    involvedObject: {
      kind: involved.kind,
      apiVersion: involved.apiVersion,
      name,
      namespace,
      uid: involved.metadata?.uid,
      resourceVersion: involved.metadata?.resourceVersion,
      ...(e.fieldPath ? { fieldPath: e.fieldPath } : {}),
    },
    reason: e.reason,
    message: e.message,
    type: e.type,
    source: { component: source.component, ...(source.host ? { host: source.host } : {}) },
    reportingComponent: source.component,
    reportingInstance: source.host ?? source.component,
    firstTimestamp: nowIso,
    lastTimestamp: nowIso,
    count: 1,
  };
}

export function postPodEvent(
  client: KubeClient,
  pod: Pod,
  e: EventSpec,
  source: EventSource,
  nowIso: string,
  onError: (err: unknown) => void,
): void {
  const obj = eventObject({ kind: 'Pod', apiVersion: 'v1', metadata: pod.metadata }, e, source, nowIso);
  client.create(EVENTS, obj, { namespace: obj.metadata.namespace }).catch(onError);
}
