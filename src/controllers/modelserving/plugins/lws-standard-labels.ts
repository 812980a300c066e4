// `lws-standard-labels`: for ModelServings made by the LeaderWorkerSet adapter, give pods the labels LWS users
// and tooling select on (name, group-index, worker-index, group-key).
import { createHash } from 'node:crypto';
import { parseOrdinal } from '../naming.js';
import type { ModelServingPlugin, PluginFactory } from './types.js';

export const LWS_NAME = 'leaderworkerset.sigs.k8s.io/name';
export const LWS_GROUP_INDEX = 'leaderworkerset.sigs.k8s.io/group-index';
export const LWS_WORKER_INDEX = 'leaderworkerset.sigs.k8s.io/worker-index';
export const LWS_GROUP_KEY = 'leaderworkerset.sigs.k8s.io/group-key';

export const lwsStandardLabels: PluginFactory = (name): ModelServingPlugin => ({
  name,
  onPodCreate(req) {
    const owner = req.ms.metadata.ownerReferences?.find((o) => o.kind === 'LeaderWorkerSet');
    if (!owner) return;
    const groupIndex = String(parseOrdinal(req.groupName)?.ordinal ?? 0);
    const workerIndex = req.isEntry ? '0' : String(parseOrdinal(req.pod.metadata?.name ?? '')?.ordinal ?? 0);
    req.pod.metadata ??= {};
    req.pod.metadata.labels = {
      ...(req.pod.metadata.labels ?? {}),
      [LWS_NAME]: owner.name,
      [LWS_GROUP_INDEX]: groupIndex,
      [LWS_WORKER_INDEX]: workerIndex,
      [LWS_GROUP_KEY]: createHash('sha1').update(`${owner.name}-${groupIndex}`).digest('hex'),
    };
  },
});
