import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AutoscalingPolicy,
  applyAutoscalingAdmissionDefaults,
  applyDefaults,
  type ModelRoute,
  type ModelServer,
  type ModelServing,
} from './index.js';

const meta = { name: 'x', namespace: 'default' };

test('applyDefaults fills CRD defaults of present objects and returns a copy', () => {
  const route: ModelRoute = {
    apiVersion: 'networking.serving.volcano.sh/v1alpha1',
    kind: 'ModelRoute',
    metadata: meta,
    spec: {
      modelName: 'm',
      rules: [{ targetModels: [{ modelServerName: 'a' }, { modelServerName: 'b', weight: 0 }] }],
      rateLimit: { inputTokensPerUnit: 10 },
      parentRefs: [{ name: 'gw' }],
    },
  };
  const d = applyDefaults(route);
  assert.notEqual(d, route);
  assert.equal(route.spec.rules[0].targetModels[0].weight, undefined, 'input untouched');
  assert.equal(d.spec.rules[0].targetModels[0].weight, 100);
  assert.equal(d.spec.rules[0].targetModels[1].weight, 0, 'explicit zero kept');
  assert.equal(d.spec.rateLimit?.unit, 'second');
  assert.deepEqual(d.spec.parentRefs?.[0], { name: 'gw', group: 'gateway.networking.k8s.io', kind: 'Gateway' });
});

test('defaults never create missing parents', () => {
  const server: ModelServer = {
    apiVersion: 'networking.serving.volcano.sh/v1alpha1',
    kind: 'ModelServer',
    metadata: meta,
    spec: { inferenceEngine: 'vLLM', workloadSelector: { matchLabels: { a: 'b' } }, workloadPort: { port: 8000 } },
  };
  const d = applyDefaults(server);
  assert.equal(d.spec.workloadPort.protocol, 'http');
  assert.equal(d.spec.kvConnector, undefined);
  assert.equal(d.spec.trafficPolicy, undefined);
  const withRetry = applyDefaults<ModelServer>({
    ...server,
    spec: { ...server.spec, trafficPolicy: { retry: {} }, kvConnector: {} },
  });
  assert.equal(withRetry.spec.trafficPolicy?.retry?.retryInterval, '100ms');
  assert.equal(withRetry.spec.kvConnector?.type, 'http');
});

test('ModelServing defaults: replicas, scheduler, recovery, roles, rollout, nulls dropped', () => {
  const ms = {
    apiVersion: 'workload.serving.volcano.sh/v1alpha1',
    kind: 'ModelServing',
    metadata: meta,
    spec: {
      replicas: null,
      rolloutStrategy: { rollingUpdateConfiguration: {} },
      template: {
        roles: [
          {
            name: 'a',
            workerReplicas: 0,
            entryTemplate: { spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] } },
          },
        ],
      },
    },
  } as unknown as ModelServing;
  const d = applyDefaults(ms);
  assert.equal(d.spec.replicas, 1);
  assert.equal(d.spec.schedulerName, 'volcano');
  assert.equal(d.spec.recoveryPolicy, 'RoleRecreate');
  assert.equal(d.spec.rolloutStrategy?.type, 'ServingGroupRollingUpdate');
  assert.equal(d.spec.rolloutStrategy?.rollingUpdateConfiguration?.maxUnavailable, 1);
  assert.equal(d.spec.template.restartGracePeriodSeconds, 0);
  assert.equal(d.spec.template.roles[0].replicas, 1);
  assert.equal(d.spec.template.roles[0].maxUnavailable, 1);
  assert.equal(d.spec.template.roles[0].entryTemplate.spec?.containers[0].ports?.[0].protocol, 'TCP');
});

test('unknown kinds and non-objects are copied unchanged', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {} };
  assert.deepEqual(applyDefaults(pod), pod);
  assert.equal(applyDefaults('x'), 'x');
  assert.equal(applyDefaults(null), null);
});

const policy = (behavior?: unknown): AutoscalingPolicy =>
  ({
    apiVersion: 'workload.serving.volcano.sh/v1alpha1',
    kind: 'AutoscalingPolicy',
    metadata: meta,
    spec: {
      metrics: [{ name: 'w', targetValue: '1' }],
      behavior,
      homogeneousTarget: { minReplicas: 1, maxReplicas: 2, target: { targetRef: { name: 's' } } },
    },
  }) as AutoscalingPolicy;

test("AutoscalingPolicy admission defaults follow upstream's mutating webhook", () => {
  const full = applyAutoscalingAdmissionDefaults(policy());
  assert.deepEqual(full.spec.behavior, {
    scaleDown: { instances: 0, percent: 100, period: '1m', selectPolicy: 'Or', stabilizationWindow: '5m' },
    scaleUp: {
      stablePolicy: { instances: 4, percent: 100, period: '1m', selectPolicy: 'Or', stabilizationWindow: '0s' },
      panicPolicy: { percent: 0, period: '0s', panicThresholdPercent: 200, panicModeHold: '0s' },
    },
  });
  assert.equal(full.spec.tolerancePercent, 10, 'CRD defaults applied as well');

  const partial = applyAutoscalingAdmissionDefaults(
    policy({ scaleDown: { instances: 2 }, scaleUp: { stablePolicy: { percent: 50 } } }),
  );
  // Present objects keep their values, get the window from the webhook and the rest from CRD defaults.
  assert.deepEqual(partial.spec.behavior?.scaleDown, {
    instances: 2,
    stabilizationWindow: '5m',
    percent: 100,
    period: '15s',
    selectPolicy: 'Or',
  });
  assert.equal(partial.spec.behavior?.scaleUp?.stablePolicy?.stabilizationWindow, '0s');
  assert.equal(partial.spec.behavior?.scaleUp?.stablePolicy?.instances, 1);
  assert.deepEqual(partial.spec.behavior?.scaleUp?.panicPolicy, {
    percent: 0,
    period: '0s',
    panicThresholdPercent: 200,
    panicModeHold: '0s',
  });
});
