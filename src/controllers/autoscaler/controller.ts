// The autoscaler loop (reference §4.1): every sync period, each AutoscalingPolicy is read into a plan (once per
// generation), its targets' metrics are collected, the pure scaler decides, the replicas are written through the
// ModelServing scale subresource (role replicas by JSON patch for disaggregated targets), and the policy's status and
// Events say what happened. Beyond upstream: a new or changed policy is acted on at once rather than at the next
// tick, each policy has its own time budget (upstream shares one 3 s budget across the whole pass), and status is
// written for every target kind.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import type { AutoscalingPolicy, AutoscalingPolicyStatus, ModelServer, ModelServing } from '../../api/index.js';
import {
  AUTOSCALING_POLICIES,
  type Clock,
  type EventRecorder,
  type KubeClient,
  MODEL_SERVERS,
  MODEL_SERVINGS,
  sleep,
} from '../../kube/index.js';
import type { ControllerMetrics } from '../modelserving/controller.js';
import type { InformerLike } from '../modelserving/io.js';
import { type FetchText, MetricCollector } from './collect.js';
import { DEMAND_ANNOTATION, frontingServers, pendingDemand, SCALE_TO_ZERO_ANNOTATION } from './demand.js';
import { PlanError, planOf, type ScalingPlan, type Unit } from './plan.js';
import { type PolicyOutcome, PolicyScaler, type UnitDecision, type UnitObservation } from './scaler.js';
import { type CycleResult, statusOf } from './status.js';

export const DEFAULT_SYNC_PERIOD_MS = 15_000;

/**
 * The API permissions the autoscaler needs beyond the ModelServing controller's: the ClusterRole
 * kthena-controller-manager-autoscaler in deploy/controller-manager/rbac.yaml (test/e2e/modelserving-deploy.test.ts
 * keeps them equal).
 */
export const AUTOSCALER_RBAC_RULES: { apiGroups: string[]; resources: string[]; verbs: string[] }[] = [
  { apiGroups: ['workload.serving.volcano.sh'], resources: ['autoscalingpolicies'], verbs: ['list', 'watch'] },
  { apiGroups: ['workload.serving.volcano.sh'], resources: ['autoscalingpolicies/status'], verbs: ['update'] },
  // homogeneous/heterogeneous targets scale through the scale subresource; disaggregated roles by JSON patch
  { apiGroups: ['workload.serving.volcano.sh'], resources: ['modelservings/scale'], verbs: ['patch'] },
  { apiGroups: ['workload.serving.volcano.sh'], resources: ['modelservings'], verbs: ['patch'] },
  // scale to zero: mark fronting ModelServers, read the routers' demand stamps
  { apiGroups: ['networking.serving.volcano.sh'], resources: ['modelservers'], verbs: ['list', 'watch', 'patch'] },
  // repeated Events are aggregated by patching their count
  { apiGroups: [''], resources: ['events'], verbs: ['patch'] },
];

export interface AutoscalerOptions {
  client: KubeClient;
  policies: InformerLike<AutoscalingPolicy>;
  modelServings: InformerLike<ModelServing>;
  pods: InformerLike<Pod>;
  /** ModelServers, for scale to zero (absent: no scale-from-zero signalling). */
  modelServers?: InformerLike<ModelServer>;
  clock: Clock;
  log: Logger;
  syncPeriodMs?: number;
  metrics?: ControllerMetrics;
  recorder?: EventRecorder;
  fetch?: FetchText;
  /** Called with the clock's time after each pass. */
  onPass?: (at: number) => void;
  /** Each policy's decisions of a pass (metrics: desired vs current replicas, scale events). */
  onDecisions?: (policy: string, decisions: readonly UnitDecision[]) => void;
}

interface Entry {
  uid: string;
  generation: number;
  plan?: ScalingPlan;
  scaler?: PolicyScaler;
  error?: string;
}

const keyOf = (p: AutoscalingPolicy) => `${p.metadata?.namespace ?? 'default'}/${p.metadata?.name}`;

export class AutoscalerController {
  private readonly entries = new Map<string, Entry>();
  private readonly collector: MetricCollector;
  private kicked: (() => void) | undefined;
  /** When each unit (`policy key|unit key`) was last scaled to zero: older demand does not count. */
  private readonly zeroAt = new Map<string, number>();
  /** ModelServers that front some scale-to-zero target in the current pass. */
  private wantMarked = new Set<string>();

  constructor(private readonly o: AutoscalerOptions) {
    this.collector = new MetricCollector(o.fetch);
    // Act on a new or changed policy now, not at the next tick.
    o.policies.on('add', () => this.kick());
    o.policies.on('update', (a, b) => {
      if (a.metadata?.generation !== b.metadata?.generation) this.kick();
    });
    // A router stamped demand on a ModelServer: a target at zero may need a replica now.
    o.modelServers?.on('update', (a, b) => {
      if (a.metadata?.annotations?.[DEMAND_ANNOTATION] !== b.metadata?.annotations?.[DEMAND_ANNOTATION]) this.kick();
    });
  }

  private kick(): void {
    this.kicked?.();
  }

  /** Runs passes until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const period = this.o.syncPeriodMs || DEFAULT_SYNC_PERIOD_MS;
    while (!signal.aborted) {
      await this.syncAll();
      await new Promise<void>((resolve) => {
        const inner = new AbortController();
        const done = () => {
          this.kicked = undefined;
          signal.removeEventListener('abort', done);
          inner.abort();
          resolve();
        };
        this.kicked = done;
        signal.addEventListener('abort', done, { once: true });
        sleep(this.o.clock, period, inner.signal, 'autoscaler-sync').then(done, () => {});
      });
    }
  }

  /** One pass over every policy. */
  async syncAll(): Promise<void> {
    const policies = this.o.policies.list();
    const live = new Set(policies.map(keyOf));
    for (const k of this.entries.keys()) if (!live.has(k)) this.entries.delete(k);
    this.wantMarked = new Set();
    for (const p of policies) {
      const started = this.o.clock.now();
      try {
        await this.syncPolicy(p);
        this.o.metrics?.reconcile('success', (this.o.clock.now() - started) / 1000);
      } catch (err) {
        this.o.metrics?.reconcile('error', (this.o.clock.now() - started) / 1000);
        this.o.log.warn({ policy: keyOf(p), err: (err as Error).message }, 'autoscaling pass failed');
      }
    }
    this.collector.prune(new Set(this.o.pods.list().map((p) => p.metadata?.uid ?? '')));
    await this.unmarkStale();
    this.o.onPass?.(this.o.clock.now());
  }

  private entryFor(p: AutoscalingPolicy): Entry {
    const key = keyOf(p);
    const uid = p.metadata?.uid ?? '';
    const generation = p.metadata?.generation ?? 0;
    const cur = this.entries.get(key);
    if (cur && cur.uid === uid && cur.generation === generation) return cur;
    // A new generation starts with no history, as upstream.
    let e: Entry;
    try {
      const plan = planOf(p);
      e = { uid, generation, plan, scaler: new PolicyScaler(plan) };
    } catch (err) {
      if (!(err instanceof PlanError)) throw err;
      e = { uid, generation, error: err.message };
    }
    this.entries.set(key, e);
    return e;
  }

  async syncPolicy(p: AutoscalingPolicy): Promise<void> {
    const now = this.o.clock.now();
    const e = this.entryFor(p);
    const result: CycleResult = { generation: e.generation, now, plan: e.plan };
    if (e.error || !e.plan || !e.scaler) {
      result.policyError = e.error;
      return this.writeStatus(p, result);
    }
    const obs = new Map<string, UnitObservation>();
    for (const u of e.plan.units) {
      const ms = this.o.modelServings.get(u.namespace, u.modelServing);
      if (!ms) {
        result.targetError = `ModelServing ${u.namespace}/${u.modelServing} not found`;
        break;
      }
      const current = currentReplicas(ms, u.role);
      if (current === undefined) {
        result.targetError = `ModelServing ${u.namespace}/${u.modelServing} has no role ${u.role}`;
        break;
      }
      const o = await this.collector.observe(u, current, this.o.pods.list(u.namespace), now);
      if (u.min === 0) o.demand = await this.scaleToZero(keyOf(p), u, ms, current, now);
      obs.set(u.key, o);
    }
    if (!result.targetError) {
      result.outcome = e.scaler.evaluate(obs, now);
      try {
        await this.apply(p, e.plan, result.outcome);
      } catch (err) {
        result.applyError = (err as Error).message;
      }
    }
    return this.writeStatus(p, result);
  }

  private async apply(p: AutoscalingPolicy, plan: ScalingPlan, outcome: PolicyOutcome): Promise<void> {
    if (outcome.kind === 'skip') {
      this.event(p, 'Warning', 'FailedGetMetrics', `replicas left alone: ${outcome.reason}`);
      return;
    }
    this.o.onDecisions?.(keyOf(p), outcome.decisions);
    const changed = outcome.decisions.filter((d) => d.desired !== d.current);
    if (changed.length === 0) return;
    if (plan.kind === 'disaggregated') {
      const d0 = changed[0]!.unit;
      const ms = this.o.modelServings.get(d0.namespace, d0.modelServing)!;
      const roles = ms.spec.template.roles;
      const ops = changed.flatMap((d) => {
        const i = roles.findIndex((r) => r.name === d.unit.role);
        return [
          { op: 'test', path: `/spec/template/roles/${i}/name`, value: d.unit.role },
          { op: 'add', path: `/spec/template/roles/${i}/replicas`, value: d.desired },
        ];
      });
      await this.o.client.patch(MODEL_SERVINGS, d0.modelServing, d0.namespace, ops, 'json');
      this.o.metrics?.apiRequest('patch', 'modelservings', true);
    } else {
      for (const d of changed) {
        await this.o.client.patch(
          MODEL_SERVINGS,
          d.unit.modelServing,
          d.unit.namespace,
          { spec: { replicas: d.desired } },
          'merge',
          {
            subresource: 'scale',
          },
        );
        this.o.metrics?.apiRequest('patch', 'modelservings/scale', true);
      }
    }
    for (const d of changed) {
      if (d.desired === 0) this.zeroAt.set(`${keyOf(p)}|${d.unit.key}`, this.o.clock.now());
      this.event(p, 'Normal', 'SuccessfulRescale', `${d.unit.key}: ${d.current} → ${d.desired} (${d.reason})`);
    }
  }

  /**
   * A target that may scale to zero: mark its ModelServers so routers hold requests while it has no pod, and report
   * whether a router has stamped demand since the target last went to zero.
   */
  private async scaleToZero(policy: string, u: Unit, ms: ModelServing, current: number, now: number): Promise<boolean> {
    const servers = this.o.modelServers ? frontingServers(ms, this.o.modelServers.list(u.namespace)) : [];
    for (const s of servers) {
      const key = `${s.metadata?.namespace ?? 'default'}/${s.metadata?.name}`;
      this.wantMarked.add(key);
      if (s.metadata?.annotations?.[SCALE_TO_ZERO_ANNOTATION] !== 'true') await this.annotate(s, 'true');
    }
    if (current > 0) return false;
    return pendingDemand(servers, now, this.zeroAt.get(`${policy}|${u.key}`) ?? 0) !== undefined;
  }

  /** The autoscaler owns the scale-to-zero mark: ModelServers no policy needs it on any more lose it. */
  private async unmarkStale(): Promise<void> {
    for (const s of this.o.modelServers?.list() ?? []) {
      const key = `${s.metadata?.namespace ?? 'default'}/${s.metadata?.name}`;
      if (s.metadata?.annotations?.[SCALE_TO_ZERO_ANNOTATION] === 'true' && !this.wantMarked.has(key))
        await this.annotate(s, null).catch((err: unknown) =>
          this.o.log.warn({ server: key, err: (err as Error).message }, 'could not clear the scale-to-zero mark'),
        );
    }
  }

  private async annotate(s: ModelServer, value: string | null): Promise<void> {
    const patch = { metadata: { annotations: { [SCALE_TO_ZERO_ANNOTATION]: value } } };
    await this.o.client.patch(MODEL_SERVERS, s.metadata?.name ?? '', s.metadata?.namespace, patch, 'merge');
    this.o.metrics?.apiRequest('patch', 'modelservers', true);
  }

  private event(p: AutoscalingPolicy, type: 'Normal' | 'Warning', reason: string, message: string): void {
    void this.o.recorder?.record(p as any, type, reason, message);
  }

  private async writeStatus(p: AutoscalingPolicy, r: CycleResult): Promise<void> {
    const prev = (p as { status?: AutoscalingPolicyStatus }).status;
    const next = statusOf(r, prev);
    if (JSON.stringify(next) === JSON.stringify(prev ?? {})) return;
    await this.o.client.replace(AUTOSCALING_POLICIES, { ...p, status: next } as any, { subresource: 'status' });
    this.o.metrics?.apiRequest('update', 'autoscalingpolicies/status', true);
  }
}

/** Replicas of the ModelServing (nil counts as 1), or of one role; undefined when the role does not exist. */
export function currentReplicas(ms: ModelServing, role: string | undefined): number | undefined {
  if (role === undefined) return ms.spec.replicas ?? 1;
  const r = ms.spec.template.roles.find((x) => x.name === role);
  return r ? (r.replicas ?? 1) : undefined;
}
