import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  API_VERSION_NETWORKING,
  API_VERSION_WORKLOAD,
  isRegisteredKind,
  KINDS,
  MAX_PROBLEMS_PER_DOCUMENT,
  NETWORKING_GROUP,
  registerKind,
  validate,
  WORKLOAD_GROUP,
} from './index.js';

process.env.KTHENA_STRICT_RULES = '1';

const route = (spec: unknown, extra: Record<string, unknown> = {}) => ({
  apiVersion: API_VERSION_NETWORKING,
  kind: 'ModelRoute',
  metadata: { name: 'r' },
  spec,
  ...extra,
});
const okSpec = { modelName: 'm', rules: [{ targetModels: [{ modelServerName: 's' }] }] };

test('constants and KINDS table', () => {
  assert.equal(API_VERSION_NETWORKING, 'networking.serving.volcano.sh/v1alpha1');
  assert.equal(API_VERSION_WORKLOAD, 'workload.serving.volcano.sh/v1alpha1');
  assert.equal(KINDS.ModelRoute.group, NETWORKING_GROUP);
  assert.equal(KINDS.AutoscalingPolicy.plural, 'autoscalingpolicies');
  assert.equal(KINDS.ModelServing.group, WORKLOAD_GROUP);
  assert.deepEqual(KINDS.ModelServing.scale?.specReplicasPath, '.spec.replicas');
  for (const k of Object.values(KINDS)) {
    assert.equal(k.namespaced, true);
    assert.deepEqual(k.shortNames, []);
  }
});

test('a valid object has no problems', () => {
  assert.deepEqual(validate(route(okSpec)), { errors: [], warnings: [] });
});

test('unknown fields: warnings by default, errors with strict; preserve-unknown nodes stay silent', () => {
  const obj = route({ ...okSpec, extra: 1 });
  assert.deepEqual(validate(obj).warnings, [{ path: 'spec.extra', message: 'unknown field "extra"' }]);
  assert.deepEqual(validate(obj).errors, []);
  assert.deepEqual(validate(obj, { strict: true }).errors, [{ path: 'spec.extra', message: 'unknown field "extra"' }]);
  assert.deepEqual(validate(obj, { strict: true }).warnings, []);
  // Volume sources and securityContext are kept as written, like Kubernetes does for fields it knows.
  const ms = {
    apiVersion: API_VERSION_WORKLOAD,
    kind: 'ModelServing',
    metadata: { name: 'm' },
    spec: {
      template: {
        roles: [
          {
            name: 'a',
            workerReplicas: 0,
            entryTemplate: {
              spec: {
                containers: [{ name: 'c', securityContext: { privileged: true } }],
                volumes: [{ name: 'v', nfs: { server: 'x', path: '/' } }],
              },
            },
          },
        ],
      },
      plugins: [{ name: 'p', config: { anything: [1, { deep: true }] } }],
    },
  };
  assert.deepEqual(validate(ms, { strict: true }), { errors: [], warnings: [] });
});

test('nulls: dropped (warning) for optional fields, an error for required ones', () => {
  const r = validate(route({ ...okSpec, rateLimit: null }));
  assert.deepEqual(r.errors, []);
  assert.match(r.warnings[0].message, /null/);
  assert.deepEqual(validate(route({ ...okSpec, rules: null })).errors, [
    { path: 'spec.rules', message: 'is required (got null)' },
  ]);
  assert.deepEqual(validate({ ...route(okSpec), metadata: { name: 'r', creationTimestamp: null } }).errors, []);
});

test('not an object, missing or wrong-typed apiVersion/kind', () => {
  assert.match(validate(null).errors[0].message, /must be an object/);
  assert.match(validate([]).errors[0].message, /must be an object/);
  assert.deepEqual(
    validate({}).errors.map((e) => e.path),
    ['apiVersion', 'kind'],
  );
  assert.deepEqual(validate({ apiVersion: 1, kind: true }).errors, [
    { path: 'apiVersion', message: 'must be a string, got number 1' },
    { path: 'kind', message: 'must be a string, got boolean true' },
  ]);
});

test('registerKind accepts another kind, runs its validator and still checks metadata', () => {
  const av = 'router.kthena.io/v1alpha1';
  assert.match(
    validate({ apiVersion: av, kind: 'Engines', metadata: { name: 'e' } }).errors[0].message,
    /unknown kind "Engines"/,
  );
  assert.equal(isRegisteredKind(av, 'Engines'), false);
  registerKind(av, 'Engines', (obj) =>
    Array.isArray(obj.engines) ? [] : [{ path: 'engines', message: 'is required' }],
  );
  assert.equal(isRegisteredKind(av, 'Engines'), true);
  assert.deepEqual(validate({ apiVersion: av, kind: 'Engines', metadata: { name: 'e' }, engines: [] }), {
    errors: [],
    warnings: [],
  });
  assert.deepEqual(validate({ apiVersion: av, kind: 'Engines', metadata: {} }).errors, [
    { path: 'metadata.name', message: 'is required' },
    { path: 'engines', message: 'is required' },
  ]);
  // Core kinds a demo directory carries are known out of the box.
  assert.deepEqual(validate({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }).errors, []);
});

test('problems are capped per document', () => {
  const containers = Array.from({ length: 300 }, (_, i) => ({ name: `c${i}`, image: i }));
  const ms = {
    apiVersion: API_VERSION_WORKLOAD,
    kind: 'ModelServing',
    metadata: { name: 'm' },
    spec: { template: { roles: [{ name: 'a', workerReplicas: 0, entryTemplate: { spec: { containers } } }] } },
  };
  const r = validate(ms);
  assert.equal(r.errors.length, MAX_PROBLEMS_PER_DOCUMENT + 1);
  assert.match(r.errors.at(-1)!.message, /stopped after 100 errors/);
});

test('fuzz: validate never throws, whatever replaces any part of a valid object', () => {
  const base = {
    apiVersion: API_VERSION_WORKLOAD,
    kind: 'AutoscalingPolicy',
    metadata: { name: 'p' },
    spec: {
      metrics: [{ name: 'w', targetValue: '5' }],
      behavior: { scaleUp: { panicPolicy: { period: '10s' } }, scaleDown: { period: '1m' } },
      disaggregatedTarget: {
        targetRef: { name: 'ms' },
        roles: {
          prefill: { minReplicas: 1, maxReplicas: 4, metricSources: { w: { pod: { port: 8000 } } } },
          decode: { minReplicas: 1, maxReplicas: 4, metricSources: { w: { pod: {} } } },
        },
        ratioConstraint: { numeratorRole: 'prefill', denominatorRole: 'decode', minRatio: '0.5', maxRatio: '2' },
      },
    },
  };
  const samples = [
    base,
    route(okSpec),
    {
      apiVersion: API_VERSION_WORKLOAD,
      kind: 'ModelBooster',
      metadata: { name: 'b' },
      spec: {
        backend: {
          name: 'b',
          type: 'vLLMDisaggregated',
          modelURI: 'pvc:///c/m',
          cacheURI: 'pvc://c',
          replicas: 1,
          workers: [
            {
              type: 'prefill',
              replicas: 1,
              pods: 1,
              config: { 'kv-transfer-config': '{"kv_connector":"NixlConnector","kv_role":"kv_producer"}' },
            },
            { type: 'decode', replicas: 1, pods: 1 },
          ],
        },
      },
    },
    {
      apiVersion: API_VERSION_WORKLOAD,
      kind: 'ModelServing',
      metadata: { name: 'm' },
      spec: {
        rolloutStrategy: { type: 'RoleRollingUpdate' },
        template: {
          gangPolicy: { minRoleReplicas: { a: 1 } },
          roles: [
            {
              name: 'a',
              workerReplicas: 1,
              maxUnavailable: '50%',
              entryTemplate: { spec: { containers: [{ name: 'c' }] } },
            },
          ],
        },
      },
    },
    {
      apiVersion: API_VERSION_NETWORKING,
      kind: 'ExternalModelProvider',
      metadata: { name: 'e' },
      spec: { baseURL: 'https://x', headers: { a: 'b' }, auth: { secretRef: { name: 'n', key: 'k' } } },
    },
    {
      apiVersion: API_VERSION_NETWORKING,
      kind: 'ModelServer',
      metadata: { name: 's' },
      spec: {
        inferenceEngine: 'vLLM',
        workloadSelector: {
          matchLabels: { a: 'b' },
          pdGroup: { groupKey: 'g', prefillLabels: { r: 'p' }, decodeLabels: { r: 'd' } },
        },
        workloadPort: { port: 1 },
      },
    },
  ];
  // Every path in the sample, so the fuzzer can aim anywhere.
  const paths = (v: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> => {
    if (typeof v !== 'object' || v === null) return [prefix];
    const keys = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
    return [prefix, ...keys.flatMap((k) => paths((v as any)[k], [...prefix, k]))];
  };
  for (const sample of samples) {
    const all = paths(sample);
    fc.assert(
      fc.property(fc.nat(all.length - 1), fc.anything({ maxDepth: 3 }), (i, junk) => {
        const copy: any = structuredClone(sample);
        const path = all[i];
        if (path.length === 0) return true;
        let cur = copy;
        for (const s of path.slice(0, -1)) cur = cur[s];
        cur[path[path.length - 1]] = junk;
        const r = validate(copy);
        assert.ok(Array.isArray(r.errors) && Array.isArray(r.warnings));
        for (const p of [...r.errors, ...r.warnings]) assert.equal(typeof p.message, 'string');
      }),
      { numRuns: 300, seed: 42 },
    );
  }
});
