// The workload side for the console, when the router reads a Kubernetes API: ModelBoosters, ModelServings (with
// their roles) and AutoscalingPolicies with the autoscaler's last decisions, as their status says. Listed when the
// page polls, at most once per `ttlMs` however many pages are open; an API that refuses (RBAC, CRDs not installed)
// becomes a message on the page, not an error of the console.
import type { KubeClient } from '../../../kube/client.js';
import { AUTOSCALING_POLICIES, MODEL_BOOSTERS, MODEL_SERVINGS, type ResourceRef } from '../../../kube/resource.js';

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

interface Obj {
  metadata?: { name?: string; namespace?: string };
  spec?: any;
  status?: any;
}

export interface WorkloadsView {
  modelBoosters: { key: string; conditions: Condition[] }[];
  modelServings: {
    key: string;
    replicas: number;
    availableReplicas: number;
    updatedReplicas: number;
    roles: { name: string; replicas: number }[];
    conditions: Condition[];
  }[];
  autoscalingPolicies: { key: string; conditions: Condition[]; lastDecisions: unknown[] }[];
  /** Per kind, why it could not be listed (403, CRD missing); absent when all were read. */
  errors: Record<string, string>;
  readAt: string;
}

const key = (o: Obj) => `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name ?? ''}`;
const conditions = (o: Obj): Condition[] =>
  ((o.status?.conditions ?? []) as Condition[]).map(({ type, status, reason, message }) => ({
    type,
    status,
    reason,
    message,
  }));

export function workloadsView(
  boosters: Obj[],
  servings: Obj[],
  policies: Obj[],
  errors: Record<string, string>,
  now: number,
): WorkloadsView {
  return {
    modelBoosters: boosters.map((b) => ({ key: key(b), conditions: conditions(b) })),
    modelServings: servings.map((m) => ({
      key: key(m),
      replicas: Number(m.spec?.replicas ?? 1),
      availableReplicas: Number(m.status?.availableReplicas ?? 0),
      updatedReplicas: Number(m.status?.updatedReplicas ?? 0),
      roles: ((m.spec?.template?.roles ?? []) as { name?: string; replicas?: number }[]).map((r) => ({
        name: r.name ?? '',
        replicas: Number(r.replicas ?? 1),
      })),
      conditions: conditions(m),
    })),
    autoscalingPolicies: policies.map((p) => ({
      key: key(p),
      conditions: conditions(p),
      lastDecisions: (p.status?.lastDecisions ?? []) as unknown[],
    })),
    errors,
    readAt: new Date(now).toISOString(),
  };
}

export class WorkloadReader {
  private cached: { at: number; view: Promise<WorkloadsView> } | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string | undefined,
    private readonly ttlMs = 5000,
    private readonly now: () => number = Date.now,
  ) {}

  read(): Promise<WorkloadsView> {
    const t = this.now();
    if (!this.cached || t - this.cached.at >= this.ttlMs) this.cached = { at: t, view: this.fetch(t) };
    return this.cached.view;
  }

  private async fetch(now: number): Promise<WorkloadsView> {
    const errors: Record<string, string> = {};
    const list = async (ref: ResourceRef, kind: string): Promise<Obj[]> => {
      try {
        return (await this.client.list<Obj>(ref, { namespace: this.namespace })).items;
      } catch (e) {
        errors[kind] = (e as Error).message;
        return [];
      }
    };
    const [b, m, p] = await Promise.all([
      list(MODEL_BOOSTERS, 'ModelBooster'),
      list(MODEL_SERVINGS, 'ModelServing'),
      list(AUTOSCALING_POLICIES, 'AutoscalingPolicy'),
    ]);
    return workloadsView(b, m, p, errors, now);
  }
}
