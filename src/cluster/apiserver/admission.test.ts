import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateWebhookConfiguration, webhookMatches, webhookUrlProblem } from './admission.js';
import type { ResourceType } from './types.js';

const t = {
  group: 'workload.serving.volcano.sh',
  plural: 'modelboosters',
  kind: 'ModelBooster',
  namespaced: true,
} as ResourceType;

test('rules match on group, version, resource, operation and scope (with * wildcards)', () => {
  const rule = {
    apiGroups: ['workload.serving.volcano.sh'],
    apiVersions: ['v1alpha1'],
    operations: ['CREATE', 'UPDATE'],
    resources: ['modelboosters'],
  };
  const a = { t, version: 'v1alpha1', operation: 'CREATE' as const };
  assert.equal(webhookMatches({ name: 'w', rules: [rule] }, a), true);
  assert.equal(webhookMatches({ name: 'w', rules: [{ ...rule, operations: ['UPDATE'] }] }, a), false);
  assert.equal(webhookMatches({ name: 'w', rules: [{ ...rule, resources: ['modelservings'] }] }, a), false);
  assert.equal(webhookMatches({ name: 'w', rules: [{ ...rule, scope: 'Cluster' }] }, a), false);
  assert.equal(
    webhookMatches(
      { name: 'w', rules: [{ apiGroups: ['*'], apiVersions: ['*'], operations: ['*'], resources: ['*'] }] },
      a,
    ),
    true,
  );
  assert.equal(webhookMatches({ name: 'w' }, a), false);
});

test('webhook URLs: https anywhere, http only on loopback', () => {
  assert.equal(webhookUrlProblem('https://hooks.example/validate'), undefined);
  assert.equal(webhookUrlProblem('http://127.0.0.1:9443/validate'), undefined);
  assert.equal(webhookUrlProblem('http://localhost:1/x'), undefined);
  assert.match(webhookUrlProblem('http://hooks.example/x') ?? '', /must use https/);
  assert.match(webhookUrlProblem('not a url') ?? '', /valid URL/);
});

test('configurations: names unique, exactly one of url or service, known failure policies', () => {
  const causes = validateWebhookConfiguration({
    webhooks: [
      { name: 'a', clientConfig: { url: 'http://10.0.0.1/x' } },
      { name: 'a', clientConfig: {} },
      { clientConfig: { url: 'https://x', service: { name: 's' } }, failurePolicy: 'Maybe' },
    ],
  });
  assert.deepEqual(
    causes.map((c) => c.field),
    [
      'webhooks[0].clientConfig.url',
      'webhooks[1].name',
      'webhooks[1].clientConfig',
      'webhooks[2].name',
      'webhooks[2].clientConfig',
      'webhooks[2].failurePolicy',
    ],
  );
});
