import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validate } from '../../api/index.js';
import { demoObjects } from './demo.js';

test("the demo objects are valid Kthena manifests and the ModelServer selects the ModelServing's pods", () => {
  const objs = demoObjects({
    model: 'Qwen/Qwen2.5-0.5B-Instruct',
    replicas: 2,
    profile: 'llama3-8b-a100',
    namespace: 'default',
  });
  assert.deepEqual(
    objs.map((o) => o.kind),
    ['ModelServing', 'ModelServer', 'ModelRoute'],
  );
  for (const o of objs) {
    const r = validate(o, { strict: true });
    assert.equal(r.errors.length, 0, `${o.kind}: ${JSON.stringify(r.errors)}`);
  }
  const [ms, server, route] = objs as any[];
  const podLabels = ms.spec.template.roles[0].entryTemplate.metadata.labels;
  for (const [k, v] of Object.entries(server.spec.workloadSelector.matchLabels)) assert.equal(podLabels[k], v);
  assert.equal(route.spec.modelName, 'Qwen/Qwen2.5-0.5B-Instruct');
  assert.equal(
    ms.spec.template.roles[0].entryTemplate.metadata.annotations['sim.kthena.io/engine-args'],
    '--profile llama3-8b-a100',
  );
});
