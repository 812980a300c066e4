import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AutoscalingPolicy } from '../../api/index.js';
import { PlanError, planOf } from './plan.js';
import { PolicyScaler, type UnitObservation } from './scaler.js';
import { statusOf } from './status.js';

const noLimits = {
  scaleDown: { instances: 0, percent: 100, period: '0s', stabilizationWindow: '0s' },
  scaleUp: { stablePolicy: { instances: 100, percent: 1000, period: '0s', stabilizationWindow: '0s' } },
};
const pod = (name: string, port = 8000) => ({ pod: { name, port } });
const obs = (current: number, metrics?: Record<string, number>, o: Partial<UnitObservation> = {}): UnitObservation => ({
  current,
  metrics: metrics ? new Map(Object.entries(metrics)) : undefined,
  external: new Map(),
  unready: 0,
  ...o,
});
const policy = (spec: any): AutoscalingPolicy =>
  ({
    apiVersion: 'workload.serving.volcano.sh/v1alpha1',
    kind: 'AutoscalingPolicy',
    metadata: { name: 'p', namespace: 'ns', generation: 3 },
    spec,
  }) as AutoscalingPolicy;

test('homogeneous: one unit; the decision carries the metric values and the reason', () => {
  const plan = planOf(
    policy({
      metrics: [{ name: 'waiting', targetValue: '10' }],
      behavior: noLimits,
      homogeneousTarget: {
        minReplicas: 1,
        maxReplicas: 8,
        target: { targetRef: { name: 'ms' }, metricSources: { waiting: pod('vllm:num_requests_waiting') } },
      },
    }),
  );
  assert.equal(plan.units[0]!.namespace, 'ns', 'target namespace defaults to the policy namespace');
  const s = new PolicyScaler(plan);
  const out = s.evaluate(new Map([['ms', obs(2, { waiting: 55 })]]), 0);
  assert.equal(out.kind, 'scale');
  if (out.kind !== 'scale') return;
  assert.equal(out.decisions[0]!.desired, 6);
  assert.deepEqual(out.decisions[0]!.metrics, [{ name: 'waiting', value: 55, target: 10, source: 'pod' }]);
  assert.match(out.decisions[0]!.reason, /metric waiting asks for 6/);
  const st = statusOf({ generation: 3, now: Date.UTC(2026, 0, 1), plan, outcome: out }, undefined);
  assert.equal(st.observedGeneration, 3);
  assert.equal(st.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  assert.deepEqual(st.lastDecisions?.[0]?.metrics, [
    { name: 'waiting', value: '55', targetValue: '10', source: 'pod' },
  ]);
  assert.deepEqual(st.homogeneousStatus, {
    name: 'ms',
    currentReplicas: 2,
    desiredReplicas: 6,
    mode: 'Stable',
    lastScaleTime: '2026-01-01T00:00:00Z',
  });
});

test('a failed collection skips the cycle and keeps the last decision in status', () => {
  const plan = planOf(
    policy({
      metrics: [{ name: 'waiting', targetValue: '10' }],
      homogeneousTarget: {
        minReplicas: 1,
        maxReplicas: 8,
        target: { targetRef: { name: 'ms' }, metricSources: { waiting: pod('w') } },
      },
    }),
  );
  const s = new PolicyScaler(plan);
  const out = s.evaluate(new Map([['ms', obs(2, undefined, { error: 'pod ms-0 has restarted containers' })]]), 0);
  assert.deepEqual(out, { kind: 'skip', reason: 'ms: pod ms-0 has restarted containers', metrics: [] });
  const prev = { lastDecisions: [{ target: 'ms', desiredReplicas: 2 }] };
  const st = statusOf({ generation: 1, now: 0, plan, outcome: out }, prev);
  assert.equal(st.conditions?.[0]?.reason, 'MetricsUnavailable');
  assert.deepEqual(st.lastDecisions, prev.lastDecisions);
});

test('disaggregated: fixed roles stay fixed, the ratio is enforced after correction, and one blind role skips all', () => {
  const plan = planOf(
    policy({
      metrics: [{ name: 'waiting', targetValue: '5' }],
      behavior: noLimits,
      disaggregatedTarget: {
        targetRef: { name: 'pd' },
        roles: {
          prefill: { minReplicas: 1, maxReplicas: 8, metricSources: { waiting: pod('w') } },
          decode: { minReplicas: 1, maxReplicas: 8, metricSources: { waiting: pod('w') } },
        },
        ratioConstraint: { numeratorRole: 'prefill', denominatorRole: 'decode', minRatio: '0.5', maxRatio: '2' },
      },
    }),
  );
  assert.deepEqual(
    plan.units.map((u) => [u.key, u.sources.get('waiting')]),
    [
      [
        'pd/decode',
        {
          kind: 'pod',
          families: ['w'],
          path: '/metrics',
          port: 8000,
          selector: { matchLabels: { 'modelserving.volcano.sh/role': 'decode' }, matchExpressions: [] },
        },
      ],
      [
        'pd/prefill',
        {
          kind: 'pod',
          families: ['w'],
          path: '/metrics',
          port: 8000,
          selector: { matchLabels: { 'modelserving.volcano.sh/role': 'prefill' }, matchExpressions: [] },
        },
      ],
    ],
  );
  const s = new PolicyScaler(plan);
  // prefill asks for 8 (40/5), decode for 1 (2/5 → ceil 1): 8/1 > 2 → decode raised to 4.
  const out = s.evaluate(
    new Map([
      ['pd/prefill', obs(1, { waiting: 40 })],
      ['pd/decode', obs(1, { waiting: 2 })],
    ]),
    0,
  );
  assert.equal(out.kind, 'scale');
  if (out.kind !== 'scale') return;
  assert.deepEqual(
    out.decisions.map((d) => [d.unit.role, d.desired]),
    [
      ['decode', 4],
      ['prefill', 8],
    ],
  );
  assert.deepEqual(out.ratio, { num: 8, den: 4, adjusted: true, ratio: '2' });
  const blind = s.evaluate(
    new Map([
      ['pd/prefill', obs(1, { waiting: 40 })],
      ['pd/decode', obs(1, undefined, { error: 'no entry pods match' })],
    ]),
    1,
  );
  assert.equal(blind.kind, 'skip');

  const fixed = planOf(
    policy({
      metrics: [{ name: 'waiting', targetValue: '5' }],
      disaggregatedTarget: {
        targetRef: { name: 'pd' },
        roles: {
          prefill: { minReplicas: 2, maxReplicas: 2 },
          decode: { minReplicas: 1, maxReplicas: 8, metricSources: { waiting: pod('w') } },
        },
      },
    }),
  );
  const f = new PolicyScaler(fixed).evaluate(
    new Map([
      ['pd/prefill', obs(5)],
      ['pd/decode', obs(1, { waiting: 4 })],
    ]),
    0,
  );
  assert.ok(f.kind === 'scale' && f.decisions.find((d) => d.unit.role === 'prefill')?.desired === 2);
});

test('heterogeneous: the total follows the metrics and is split by cost', () => {
  const t = (name: string) => ({ targetRef: { name }, metricSources: { waiting: pod('w') } });
  const plan = planOf(
    policy({
      metrics: [{ name: 'waiting', targetValue: '10' }],
      behavior: noLimits,
      heterogeneousTarget: {
        costExpansionRatePercent: 200,
        params: [
          { target: t('a100'), cost: 100, minReplicas: 0, maxReplicas: 4 },
          { target: t('l40'), cost: 60, minReplicas: 1, maxReplicas: 8 },
        ],
      },
    }),
  );
  const s = new PolicyScaler(plan);
  // n = 2 reporting: r = 45/2/10 = 2.25 → ceil(4.5) = 5 total → A100 2, L40 3 (the reference's worked example).
  const out = s.evaluate(
    new Map([
      ['a100', obs(0, { waiting: 0 })],
      ['l40', obs(1, { waiting: 45 })],
    ]),
    0,
  );
  assert.ok(out.kind === 'scale');
  if (out.kind !== 'scale') return;
  assert.deepEqual(
    out.decisions.map((d) => [d.unit.key, d.desired]),
    [
      ['a100', 2],
      ['l40', 3],
    ],
  );
});

test('unusable policies are PlanErrors that say which field', () => {
  assert.throws(() => planOf(policy({ metrics: [] })), PlanError);
  assert.throws(
    () =>
      planOf(
        policy({
          metrics: [{ name: 'x', targetValue: '0' }],
          homogeneousTarget: { minReplicas: 1, maxReplicas: 2, target: { targetRef: { name: 'a' } } },
        }),
      ),
    /spec.metrics: metric x: targetValue must be > 0/,
  );
  assert.throws(
    () =>
      planOf(
        policy({
          metrics: [{ name: 'x', targetValue: '1' }],
          homogeneousTarget: {
            minReplicas: 1,
            maxReplicas: 2,
            target: { targetRef: { kind: 'Deployment', name: 'a' } },
          },
        }),
      ),
    /targetRef.kind must be ModelServing/,
  );
});

test('a policy without behavior gets upstream webhook defaults (5 min scale-down window, panic off)', () => {
  const plan = planOf(
    policy({
      metrics: [{ name: 'x', targetValue: '1' }],
      homogeneousTarget: { minReplicas: 1, maxReplicas: 2, target: { targetRef: { name: 'a' } } },
    }),
  );
  assert.equal(plan.behavior.scaleDown.stabilizationWindowMs, 300_000);
  assert.equal(plan.behavior.scaleUp.instances, 4);
  assert.equal(plan.behavior.panic.holdMs, 0);
});

test('built-in metric names need no metricSources; explicit sources win', () => {
  const plan = planOf(
    policy({
      metrics: [
        { name: 'num_requests_waiting', targetValue: '4' },
        { name: 'kv_cache_usage', targetValue: '800m' },
      ],
      homogeneousTarget: {
        minReplicas: 1,
        maxReplicas: 4,
        target: { targetRef: { name: 'ms' }, metricSources: { kv_cache_usage: pod('my_kv', 9000) } },
      },
    }),
  );
  const src = plan.units[0]!.sources;
  assert.deepEqual(src.get('num_requests_waiting'), {
    kind: 'pod',
    families: ['vllm:num_requests_waiting', 'sglang:num_queue_reqs'],
    path: '/metrics',
    selector: { matchLabels: {}, matchExpressions: [] },
  });
  assert.deepEqual((src.get('kv_cache_usage') as any).families, ['my_kv']);
});

const sloPolicy = (annotations: Record<string, string>, spec: any = {}): AutoscalingPolicy =>
  ({
    ...policy({
      metrics: [{ name: 'num_requests_waiting', targetValue: '20' }],
      behavior: noLimits,
      homogeneousTarget: { minReplicas: 1, maxReplicas: 20, target: { targetRef: { name: 'ms' } } },
      ...spec,
    }),
    metadata: { name: 'p', namespace: 'ns', generation: 1, annotations },
  }) as AutoscalingPolicy;

test('SLO policy: the plan reads the annotation; bad values and non-homogeneous targets are plan errors', () => {
  const plan = planOf(sloPolicy({ 'autoscaling.kthena.io/ttft-slo': '500ms' }));
  assert.equal(plan.units[0]!.slo?.ttftSec, 0.5);
  assert.deepEqual(plan.units[0]!.slo?.ttft.families, [
    'vllm:time_to_first_token_seconds',
    'sglang:time_to_first_token_seconds',
  ]);
  assert.equal(planOf(sloPolicy({})).units[0]!.slo, undefined, 'no annotation: upstream behaviour');
  assert.throws(() => planOf(sloPolicy({ 'autoscaling.kthena.io/ttft-slo': 'soon' })), PlanError);
  assert.throws(
    () =>
      planOf(
        sloPolicy(
          { 'autoscaling.kthena.io/ttft-slo': '1s' },
          {
            homogeneousTarget: undefined,
            heterogeneousTarget: { params: [{ target: { targetRef: { name: 'a' } }, minReplicas: 0, maxReplicas: 2 }] },
          },
        ),
      ),
    /homogeneousTarget policies only/,
  );
});

test('SLO policy: replicas follow the request rate against the learned capacity; the reason says so', () => {
  const s = new PolicyScaler(
    planOf(
      sloPolicy({ 'autoscaling.kthena.io/ttft-slo': '1s', 'autoscaling.kthena.io/target-utilization-percent': '80' }),
    ),
  );
  const at = (t: number, current: number, rate: number, ttftSec: number, o: Partial<UnitObservation> = {}) =>
    s.evaluate(
      new Map([
        [
          'ms',
          obs(
            current,
            { num_requests_waiting: 0 },
            { ready: current, slo: { rate, ttftSec, requests: 500, ready: current }, ...o },
          ),
        ],
      ]),
      t,
    );
  // Settling first (ready count just seen), then the first evidence: 2 replicas serve 40 req/s within the SLO.
  let out = at(0, 2, 40, 0.6);
  assert.equal(out.kind === 'scale' && out.decisions[0]!.desired, 1, 'nothing known: upstream metric only');
  out = at(30_000, 2, 40, 0.6);
  assert.ok(out.kind === 'scale');
  if (out.kind !== 'scale') return;
  // capacity 20 per replica, target 16: 40 req/s → 3 replicas.
  assert.equal(out.decisions[0]!.desired, 3);
  assert.match(out.decisions[0]!.reason, /metric slo_request_rate asks for 3/);
  assert.match(out.decisions[0]!.reason, /SLO TTFT p95 ≤ 1 s \(seen 0\.600 s at 40\.0 req\/s: first-evidence/);
  assert.match(out.decisions[0]!.reason, /one replica ≈ 20\.0 req\/s within it/);
  assert.deepEqual(
    out.decisions[0]!.metrics.map((m) => m.name),
    ['num_requests_waiting', 'slo_request_rate', 'ttft_p95_seconds'],
  );
  // Without the SLO's signals (no ready pod), the policy's own metrics still decide.
  const none = s.evaluate(new Map([['ms', obs(3, { num_requests_waiting: 100 }, { ready: 0 })]]), 45_000);
  assert.equal(none.kind === 'scale' && none.decisions[0]!.desired, 5);
});

test('SLO policy: a steeply falling rate with the SLO met releases the scale-down stabilisation', () => {
  const behavior = {
    scaleDown: { instances: 100, percent: 100, period: '15s', stabilizationWindow: '60s' },
    scaleUp: noLimits.scaleUp,
  };
  const scaler = () =>
    new PolicyScaler(
      planOf(
        sloPolicy(
          { 'autoscaling.kthena.io/ttft-slo': '1s', 'autoscaling.kthena.io/target-utilization-percent': '80' },
          { behavior },
        ),
      ),
    );
  const at = (s: PolicyScaler, t: number, current: number, rate: number, ttftSec: number) => {
    const out = s.evaluate(
      new Map([
        [
          'ms',
          obs(
            current,
            { num_requests_waiting: 0 },
            { ready: current, slo: { rate, ttftSec, requests: 500, ready: current } },
          ),
        ],
      ]),
      t,
    );
    assert.ok(out.kind === 'scale');
    return out.kind === 'scale' ? out.decisions[0]!.desired : -1;
  };
  // 10 replicas serve 200 req/s within the SLO: capacity 20, target 16 → 13 wanted; the burst then ends.
  const run = (endTtft: number) => {
    const s = scaler();
    at(s, 0, 10, 200, 0.5);
    at(s, 30_000, 10, 200, 0.5);
    at(s, 45_000, 10, 200, 0.5);
    // 200 → 80 req/s within 30 s (−60 %): 5 replicas cover it.
    return at(s, 60_000, 10, 80, endTtft);
  };
  assert.equal(run(0.3), 5, "load leaving and the SLO met: the burst's replicas go now");
  assert.equal(run(1.5), 10, 'the SLO missed: the window holds (a backlog is still draining)');
  // A gentle fall keeps the stabilisation.
  const s = scaler();
  at(s, 0, 10, 200, 0.5);
  at(s, 30_000, 10, 200, 0.5);
  assert.equal(at(s, 60_000, 10, 180, 0.3), 10);
});
