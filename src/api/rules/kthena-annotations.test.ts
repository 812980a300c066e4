// Our annotations on ModelRoute and ExternalModelProvider are validated with paths, like spec fields.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validate } from '../index.js';

const route = (annotations: Record<string, string>, target: Record<string, string> = { modelServerName: 'ms' }) => ({
  apiVersion: 'networking.serving.volcano.sh/v1alpha1',
  kind: 'ModelRoute',
  metadata: { name: 'r', namespace: 'default', annotations },
  spec: { modelName: 'm', rules: [{ targetModels: [target] }] },
});
const provider = (annotations: Record<string, string>) => ({
  apiVersion: 'networking.serving.volcano.sh/v1alpha1',
  kind: 'ExternalModelProvider',
  metadata: { name: 'p', namespace: 'default', annotations },
  spec: { baseURL: 'https://api.example.com' },
});
const problems = (o: unknown) => {
  const r = validate(o);
  return {
    errors: r.errors.map((e) => `${e.path}: ${e.message}`),
    warnings: r.warnings.map((e) => `${e.path}: ${e.message}`),
  };
};

test('fallback annotations: a valid policy passes; each mistake is reported at its annotation', () => {
  assert.deepEqual(
    problems(
      route({
        'fallback.kthena.io/provider': 'cloud',
        'fallback.kthena.io/on': 'saturated, failing',
        'fallback.kthena.io/max-inflight-per-endpoint': '8',
      }),
    ),
    { errors: [], warnings: [] },
  );
  const bad = problems(
    route({
      'fallback.kthena.io/provider': 'Not_A_Name',
      'fallback.kthena.io/on': 'sometimes',
      'fallback.kthena.io/max-waiting-per-endpoint': '0',
    }),
  ).errors.join('\n');
  assert.match(bad, /fallback\.kthena\.io\/provider.*ExternalModelProvider/);
  assert.match(bad, /fallback\.kthena\.io\/on.*unknown reason "sometimes"/);
  assert.match(bad, /max-waiting-per-endpoint.*positive integer/);
  assert.match(
    problems(route({ 'fallback.kthena.io/on': 'failing' })).errors.join(),
    /without fallback\.kthena\.io\/provider/,
  );
  assert.match(
    problems(route({ 'fallback.kthena.io/provider': 'cloud' }, { externalModelProviderName: 'x' })).warnings.join(),
    /only to in-cluster targets/,
  );
});

test('provider annotations: durations, CA bundle and forwarded header names', () => {
  assert.deepEqual(
    problems(provider({ 'provider.kthena.io/timeout': '30s', 'provider.kthena.io/forward-headers': 'OpenAI-Beta' })),
    { errors: [], warnings: [] },
  );
  const bad = problems(
    provider({
      'provider.kthena.io/timeout': 'soon',
      'provider.kthena.io/idle-timeout': '0s',
      'provider.kthena.io/ca-bundle': 'nope',
      'provider.kthena.io/forward-headers': 'Authorization, bad header',
    }),
  ).errors.join('\n');
  for (const re of [
    /timeout.*not a duration/,
    /idle-timeout.*positive/,
    /ca-bundle.*PEM/,
    /Authorization is reserved/,
    /"bad header"/,
  ])
    assert.match(bad, re);
});
