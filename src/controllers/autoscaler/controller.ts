// The autoscaler loop (reference §4.1): every sync period, each AutoscalingPolicy is read into a plan (once per
// generation), its targets' metrics are collected, the pure scaler decides, the replicas are written through the
// ModelServing scale subresource (role replicas by JSON patch for disaggregated targets), and the policy's status and
// Events say what happened. Beyond upstream: a new or changed policy is acted on at once rather than at the next
// tick, each policy has its own time budget (upstream shares one 3 s budget across the whole pass), and status is
// written for every target kind.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import type { AutoscalingPolicy, AutoscalingPolicyStatus, ModelServing } from '../../api/index.js';
import {
  AUTOSCALING_POLICIES,
  type Clock,
  type EventRecorder,
  type KubeClient,
  MODEL_SERVINGS,
  sleep,
} from '../../kube/index.js';
import type { ControllerMetrics } from '../modelserving/controller.js';
import type { InformerLike } from '../modelserving/io.js';
import { type FetchText, MetricCollector } from './collect.js';
import { PlanError, planOf, type ScalingPlan } from './plan.js';
import { type PolicyOutcome, PolicyScaler, type UnitObservation } from './scaler.js';
import { type CycleResult, statusOf } from './status.js';

export const DEFAULT_SYNC_PERIOD_MS = 15_000;

export interface AutoscalerOptions {
  client: KubeClient;
  policies: InformerLike<AutoscalingPolicy>;
  modelServings: InformerLike<ModelServing>;
  pods: InformerLike<Pod>;
  clock: Clock;
  log: Logger;
  syncPeriodMs?: number;
  metrics?: ControllerMetrics;
  recorder?: EventRecorder;
  fetch?: FetchText;
  /** Called with the clock's time after each pass. */
  onPass?: (at: number) => void;
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

  constructor(private readonly o: AutoscalerOptions) {
    this.collector = new MetricCollector(o.fetch);
    // Act on a new or changed policy now, not at the next tick.
    o.policies.on('add', () => this.kick());
    o.policies.on('update', (a, b) => {
      if (a.metadata?.generation !== b.metadata?.generation) this.kick();
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
      obs.set(u.key, await this.collector.observe(u, current, this.o.pods.list(u.namespace), now));
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
    for (const d of changed)
      this.event(p, 'Normal', 'SuccessfulRescale', `${d.unit.key}: ${d.current} → ${d.desired} (${d.reason})`);
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
