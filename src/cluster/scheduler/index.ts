// The local scheduler as a ClusterComponent: default-scheduler semantics for single pods and Volcano semantics
// (PodGroup gangs, enqueue by minResources, network topology over HyperNodes) for pods of a PodGroup. It watches
// pods, nodes, PodGroups and HyperNodes, runs a scheduling cycle after every change, binds through pods/binding and
// explains failures with PodScheduled=False and FailedScheduling events. Decisions come from placement.ts.
import type { Node, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import { HYPERNODES, Informer, KubeApiError, KubeClient, NODES, PODGROUPS, PODS } from '../../kube/index.js';
import { authHeaders } from '../apiserver/auth.js';
import type { ClusterComponent } from '../components.js';
import { postPodEvent } from '../kubelet/events.js';
import { realTimers, rfc3339, type Timers } from '../kubelet/timers.js';
import { type Binding, canEnqueue, type GangResult, type PodGroupSpec, placeGang, scheduleOne } from './placement.js';
import { computePodGroupStatus, type PodGroupStatus, sameStatus } from './podgroup-status.js';
import type { NodeInfo } from './predicates.js';
import { addInto, podRequests, toResourceList } from './resources.js';
import type { HyperNode } from './topology.js';

export const GROUP_ANNOTATIONS = ['scheduling.k8s.io/group-name', 'scheduling.volcano.sh/group-name'];

interface PodGroup {
  metadata?: Pod['metadata'];
  spec?: PodGroupSpec;
  status?: PodGroupStatus;
}

export interface SchedulerOptions {
  client: KubeClient;
  /** spec.schedulerName values this scheduler serves. */
  schedulerNames?: string[];
  timers?: Timers;
  log?: Logger;
  /** Re-run a cycle this often even without changes (retries failed bindings). */
  resyncMs?: number;
}

const key = (p: { metadata?: Pod['metadata'] }) => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
const groupNameOf = (p: Pod) => {
  for (const a of GROUP_ANNOTATIONS) {
    const v = p.metadata?.annotations?.[a];
    if (v) return v;
  }
  return undefined;
};
const holdsResources = (p: Pod) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
const created = (o: { metadata?: Pod['metadata'] }) => o.metadata?.creationTimestamp ?? '';

/** A pod's requests, or undefined when a quantity cannot be parsed (such a pod holds nothing and fits nowhere). */
function safeRequests(p: Pod) {
  try {
    return podRequests(p);
  } catch {
    return undefined;
  }
}

export function nodeInfoOf(n: Node): NodeInfo {
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    name: n.metadata?.name ?? '',
    labels: n.metadata?.labels ?? {},
    taints: n.spec?.taints ?? [],
    unschedulable: !!n.spec?.unschedulable,
    // A node nobody reports on (no Ready condition, e.g. created by hand) counts as ready; False/Unknown do not.
    ready: !ready || ready.status === 'True',
    allocatable: toResourceList((n.status?.allocatable ?? n.status?.capacity) as Record<string, string> | undefined),
    requested: {},
  };
}

export interface RunningScheduler {
  /** Runs one scheduling cycle now (tests). */
  cycle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startScheduler(o: SchedulerOptions): Promise<RunningScheduler> {
  const client = o.client;
  const timers = o.timers ?? realTimers;
  const names = new Set(o.schedulerNames ?? ['default-scheduler', 'volcano']);
  const log = o.log;
  const warn = (what: string) => (err: unknown) => log?.warn({ err: err instanceof Error ? err.message : err }, what);

  const podInf = new Informer<Pod>(client, PODS);
  const nodeInf = new Informer<Node>(client, NODES);
  const pgInf = new Informer<PodGroup & { metadata?: Pod['metadata'] }>(client, PODGROUPS);
  const hnInf = new Informer<HyperNode & { metadata?: Pod['metadata'] }>(client, HYPERNODES);
  /** Pods we bound whose binding the informer has not shown yet: key → node. */
  const assumed = new Map<string, { uid: string; node: string }>();
  /** Last failure we reported per pod uid, so an unchanged reason is not written again. */
  const reported = new Map<string, string>();

  const setUnschedulable = async (pod: Pod, reason: string, message: string, withEvent: boolean, component: string) => {
    const uid = pod.metadata?.uid ?? '';
    const cur = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (cur?.status === 'False' && cur.reason === reason && cur.message === message) {
      reported.set(uid, message);
      return;
    }
    const now = rfc3339(timers.now());
    const cond: PodCondition = {
      type: 'PodScheduled',
      status: 'False',
      reason,
      message,
      lastProbeTime: null as unknown as string,
      lastTransitionTime: cur?.status === 'False' && cur.lastTransitionTime ? cur.lastTransitionTime : now,
    };
    const conditions = [...(pod.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled'), cond];
    if (withEvent && reported.get(uid) !== message) {
      postPodEvent(
        client,
        pod,
        { type: 'Warning', reason: 'FailedScheduling', message },
        { component },
        now,
        warn('posting event'),
      );
    }
    reported.set(uid, message);
    try {
      await client.patch(PODS, pod.metadata?.name ?? '', pod.metadata?.namespace, { status: { conditions } }, 'merge', {
        subresource: 'status',
      });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) warn('writing PodScheduled=False')(err);
    }
  };

  const bind = async (b: Binding): Promise<boolean> => {
    const pod = b.pod;
    try {
      await client.create(
        PODS,
        {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: pod.metadata?.name, namespace: pod.metadata?.namespace },
          target: { apiVersion: 'v1', kind: 'Node', name: b.node },
        } as never,
        { namespace: pod.metadata?.namespace, subresource: 'binding' },
      );
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) return false; // bound meanwhile, or being deleted
      warn(`binding ${key(pod)}`)(err);
      return false;
    }
    assumed.set(key(pod), { uid: pod.metadata?.uid ?? '', node: b.node });
    reported.delete(pod.metadata?.uid ?? '');
    postPodEvent(
      client,
      pod,
      { type: 'Normal', reason: 'Scheduled', message: `Successfully assigned ${key(pod)} to ${b.node}` },
      { component: pod.spec?.schedulerName ?? 'default-scheduler' },
      rfc3339(timers.now()),
      warn('posting event'),
    );
    return true;
  };

  const runCycle = async () => {
    if (!podInf.hasSynced() || !nodeInf.hasSynced()) return;
    const allPods = podInf.list();
    const byKey = new Map(allPods.map((p) => [key(p), p]));
    for (const [k, a] of assumed) {
      const p = byKey.get(k);
      if (!p || p.metadata?.uid !== a.uid || p.spec?.nodeName) assumed.delete(k);
    }
    const infos = nodeInf.list().flatMap((n) => {
      try {
        return [nodeInfoOf(n)];
      } catch (err) {
        warn(`ignoring node ${n.metadata?.name} with unparsable allocatable`)(err);
        return [];
      }
    });
    const infoByName = new Map(infos.map((n) => [n.name, n]));
    const boundNode = (p: Pod) => p.spec?.nodeName || assumed.get(key(p))?.node;
    for (const p of allPods) {
      const n = boundNode(p);
      if (n && holdsResources(p)) {
        const info = infoByName.get(n);
        if (info) addInto(info.requested, safeRequests(p) ?? {});
      }
    }
    const pending = allPods.filter(
      (p) =>
        !boundNode(p) &&
        !p.metadata?.deletionTimestamp &&
        names.has(p.spec?.schedulerName ?? 'default-scheduler') &&
        holdsResources(p),
    );
    const writes: Promise<unknown>[] = [];
    const take = (b: Binding) => {
      addInto(infoByName.get(b.node)?.requested ?? {}, podRequests(b.pod));
      assumed.set(key(b.pod), { uid: b.pod.metadata?.uid ?? '', node: b.node });
      writes.push(bind(b));
    };

    // Work items in creation order: single pods, and gangs by their PodGroup's creation.
    type Item = { at: string; name: string; pods: Pod[]; run: () => void };
    const items: Item[] = [];
    const gangMembers = new Map<string, Pod[]>();
    for (const p of pending) {
      if (p.spec?.schedulingGates?.length) {
        writes.push(
          setUnschedulable(
            p,
            'SchedulingGated',
            'Scheduling is blocked due to non-empty scheduling gates',
            false,
            p.spec?.schedulerName ?? 'default-scheduler',
          ),
        );
        continue;
      }
      const g = groupNameOf(p);
      if (g) {
        const k = `${p.metadata?.namespace}/${g}`;
        gangMembers.set(k, [...(gangMembers.get(k) ?? []), p]);
        continue;
      }
      items.push({
        at: created(p),
        name: key(p),
        pods: [p],
        run: () => {
          const r = scheduleOne(p, infos);
          if (r.ok) take({ pod: p, node: r.node });
          else
            writes.push(
              setUnschedulable(p, 'Unschedulable', r.message, true, p.spec?.schedulerName ?? 'default-scheduler'),
            );
        },
      });
    }
    const hyperNodes = hnInf.hasSynced() ? hnInf.list() : [];
    const groups = pgInf.hasSynced() ? pgInf.list() : [];
    const groupKeys = new Set(groups.map((g) => key(g)));
    for (const [k, members] of gangMembers) {
      if (!pgInf.hasSynced() || groupKeys.has(k)) continue;
      for (const p of members) {
        writes.push(
          setUnschedulable(
            p,
            'Unschedulable',
            `PodGroup ${k} does not exist`,
            true,
            p.spec?.schedulerName ?? 'volcano',
          ),
        );
      }
    }
    for (const pg of groups) {
      const k = key(pg);
      items.push({
        at: created(pg),
        name: k,
        pods: gangMembers.get(k) ?? [],
        run: () => {
          const spec = pg.spec ?? {};
          const ns = pg.metadata?.namespace;
          const members = allPods.filter((p) => p.metadata?.namespace === ns && groupNameOf(p) === pg.metadata?.name);
          const pendingMembers = gangMembers.get(k) ?? [];
          const prevPhase = pg.status?.phase ?? 'Pending';
          const enqueue = prevPhase === 'Pending' ? canEnqueue(spec, infos) : { ok: true, short: [] };
          let outcome: GangResult | undefined;
          let newlyBound = 0;
          if (enqueue.ok && pendingMembers.length > 0) {
            outcome = placeGang({
              name: k,
              spec,
              pending: pendingMembers,
              bound: members
                .filter((p) => boundNode(p) && holdsResources(p))
                .map((p) => ({ pod: p, node: boundNode(p) ?? '' })),
              nodes: infos,
              hyperNodes,
            });
            if (outcome.ok) {
              for (const b of outcome.bindings) take(b);
              newlyBound = outcome.bindings.length;
            }
          }
          const unschedulable = !enqueue.ok
            ? {
                reason: 'NotEnoughResources',
                message: `pod group is pending: minResources do not fit the cluster's free capacity (insufficient ${enqueue.short.join(', ')})`,
              }
            : outcome && !outcome.ok
              ? { reason: outcome.reason, message: outcome.message }
              : undefined;
          if (unschedulable) {
            // While members are still being created the count changes with every pod; the pods get a stable
            // message (written once), the PodGroup's condition carries the counts.
            const podMessage =
              unschedulable.reason === 'NotEnoughTasks'
                ? `pod group ${k} is not ready: waiting for its members to reach minMember ${spec.minMember ?? 0}` +
                  (Object.keys(spec.minTaskMember ?? {}).length ? ' and every minTaskMember' : '')
                : unschedulable.message;
            for (const p of pendingMembers) {
              writes.push(setUnschedulable(p, 'Unschedulable', podMessage, true, p.spec?.schedulerName ?? 'volcano'));
            }
          }
          const next = computePodGroupStatus({
            previous: pg.status,
            minMember: spec.minMember ?? 0,
            members,
            admitted: enqueue.ok,
            unschedulable,
            newlyBound,
            now: rfc3339(timers.now()),
          });
          if (!sameStatus(pg.status, next)) {
            writes.push(
              client.patch(PODGROUPS, pg.metadata?.name ?? '', ns, { status: next }, 'merge').catch((err: unknown) => {
                if (!(err instanceof KubeApiError && err.status === 404)) warn(`updating PodGroup ${k}`)(err);
              }),
            );
          }
        },
      });
    }
    items.sort((a, b) => a.at.localeCompare(b.at) || a.name.localeCompare(b.name));
    // One bad object (an unparsable quantity, a malformed PodGroup) must not stop everyone else's scheduling.
    for (const it of items) {
      try {
        it.run();
      } catch (err) {
        const message = `cannot schedule: ${err instanceof Error ? err.message : String(err)}`;
        warn(`scheduling ${it.name}`)(err);
        for (const p of it.pods)
          writes.push(
            setUnschedulable(p, 'Unschedulable', message, true, p.spec?.schedulerName ?? 'default-scheduler'),
          );
      }
    }
    await Promise.all(writes);
  };

  // One cycle at a time; changes during a cycle schedule exactly one more.
  let running: Promise<void> | undefined;
  let again = false;
  let timer: unknown;
  let stopped = false;
  const cycle = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await runCycle().catch(warn('scheduling cycle'));
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  const request = () => {
    if (stopped || timer !== undefined) return;
    timer = timers.setTimeout(() => {
      timer = undefined;
      void cycle();
    }, 10);
  };
  for (const inf of [podInf, nodeInf, pgInf, hnInf] as Informer<any>[]) {
    inf.on('add', request);
    inf.on('update', request);
    inf.on('delete', request);
    inf.start();
  }
  let resync: unknown;
  const resyncLoop = () => {
    if (stopped) return;
    request();
    resync = timers.setTimeout(resyncLoop, o.resyncMs ?? 10_000);
  };
  await Promise.all([podInf.waitForSync(), nodeInf.waitForSync()]);
  resyncLoop();
  return {
    cycle,
    async stop() {
      stopped = true;
      timers.clearTimeout(timer);
      timers.clearTimeout(resync);
      await Promise.all([podInf, nodeInf, pgInf, hnInf].map((i) => i.stop()));
      await running;
    },
  };
}

export const schedulerComponent: ClusterComponent = {
  name: 'scheduler',
  async start(ctx) {
    const client = new KubeClient({ server: ctx.url, userAgent: 'kthena-scheduler', headers: authHeaders(ctx.token) });
    const s = await startScheduler({ client, log: ctx.log });
    return {
      async stop() {
        await s.stop();
        await client.close();
      },
    };
  },
};
