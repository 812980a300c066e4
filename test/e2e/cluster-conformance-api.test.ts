// Reference §21 checks 1–36 (discovery, create/get, update/patch/generation) against a running server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ApiServer } from '../../src/cluster/apiserver/index.js';
import { CMS, call, PODS, pod, startTestServer, WIDGET_CRD, WIDGETS, watch, widget } from './cluster-helpers.js';

let srv: ApiServer;
let base: string;

before(async () => {
  srv = await startTestServer();
  base = srv.url;
  const r = await call(base, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', WIDGET_CRD);
  assert.equal(r.status, 201, r.text);
});
after(async () => {
  await srv.close();
});

describe('discovery and misc', () => {
  test('1. GET /api → APIVersions v1, JSON content type', async () => {
    const r = await call(base, 'GET', '/api');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(r.body.kind, 'APIVersions');
    assert.deepEqual(r.body.versions, ['v1']);
  });

  test('2. GET /apis with aggregated Accept → plain APIGroupList', async () => {
    const r = await call(base, 'GET', '/apis', undefined, {
      accept:
        'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json',
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.equal(r.body.kind, 'APIGroupList');
    const names = r.body.groups.map((g: any) => g.name);
    assert.ok(names.includes('coordination.k8s.io'));
    assert.ok(names.includes('scheduling.volcano.sh'));
    assert.ok(names.includes('topology.volcano.sh'));
    assert.ok(names.indexOf('apps') < names.indexOf('scheduling.volcano.sh'), 'built-in groups first');
  });

  test('3. GET /api/v1 → pods precedes pods/status, verbs and short names', async () => {
    const r = await call(base, 'GET', '/api/v1');
    const names = r.body.resources.map((x: any) => x.name);
    assert.ok(names.indexOf('pods') < names.indexOf('pods/status'));
    const pods = r.body.resources.find((x: any) => x.name === 'pods');
    assert.ok(pods.verbs.includes('watch'));
    assert.deepEqual(pods.shortNames, ['po']);
    assert.equal(pods.singularName, 'pod');
    assert.equal(r.body.resources.find((x: any) => x.name === 'pods/binding').kind, 'Binding');
  });

  test('4. CRD is Established in the same request; discovery lists it with subresources', async () => {
    const crd = await call(
      base,
      'GET',
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.test.kthena.io',
    );
    const est = crd.body.status.conditions.find((c: any) => c.type === 'Established');
    assert.equal(est.status, 'True');
    assert.deepEqual(crd.body.status.storedVersions, ['v1']);
    const r = await call(base, 'GET', '/apis/test.kthena.io/v1');
    const names = r.body.resources.map((x: any) => x.name);
    assert.deepEqual(names, ['widgets', 'widgets/scale', 'widgets/status']);
    const scale = r.body.resources[1];
    assert.equal(scale.group, 'autoscaling');
    assert.equal(scale.kind, 'Scale');
  });

  test('6. OpenAPI v3 index and group-version document', async () => {
    const idx = await call(base, 'GET', '/openapi/v3');
    const entry = idx.body.paths['apis/test.kthena.io/v1'];
    assert.match(entry.serverRelativeURL, /^\/openapi\/v3\/apis\/test.kthena.io\/v1\?hash=[0-9A-F]+$/);
    assert.ok(idx.body.paths['api/v1']);
    const doc = await call(base, 'GET', entry.serverRelativeURL);
    const patch = doc.body.paths['/apis/test.kthena.io/v1/namespaces/{namespace}/widgets/{name}'].patch;
    assert.deepEqual(patch['x-kubernetes-group-version-kind'], {
      group: 'test.kthena.io',
      version: 'v1',
      kind: 'Widget',
    });
    assert.ok(patch.parameters.some((p: any) => p.name === 'fieldValidation' && p.in === 'query'));
    assert.ok(!Object.keys(patch.requestBody.content).includes('application/strategic-merge-patch+json'));
    assert.equal((await call(base, 'GET', '/openapi/v2')).status, 404);
  });

  test('7. /version and health endpoints', async () => {
    const r = await call(base, 'GET', '/version');
    assert.equal(r.body.major, '1');
    assert.equal(r.body.minor, '32');
    assert.equal((await call(base, 'GET', '/healthz')).text, 'ok');
    assert.equal((await call(base, 'GET', '/readyz')).status, 200);
  });

  test('8. unknown group/version/resource → 404 Status NotFound; wrong verb → 405', async () => {
    const r = await call(base, 'GET', '/apis/nope/v1/things');
    assert.equal(r.status, 404);
    assert.equal(r.body.kind, 'Status');
    assert.equal(r.body.reason, 'NotFound');
    assert.deepEqual(r.body.details, {});
    const put = await call(base, 'PUT', PODS, pod('x'));
    assert.equal(put.status, 405);
    assert.equal(put.body.reason, 'MethodNotAllowed');
    const prot = await call(base, 'GET', '/api/v1/namespaces', undefined, {
      accept: 'application/vnd.kubernetes.protobuf',
    });
    assert.equal(prot.status, 406);
  });

  test('malformed input gets a Status and the server keeps serving', async () => {
    const bad = await call(base, 'POST', CMS, undefined, { raw: '{"metadata": ' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.reason, 'BadRequest');
    const arr = await call(base, 'POST', CMS, [1, 2]);
    assert.equal(arr.status, 400);
    const yaml = await call(base, 'POST', CMS, undefined, {
      raw: 'metadata:\n  name: from-yaml\ndata:\n  a: b\n',
      contentType: 'application/yaml',
    });
    assert.equal(yaml.status, 201, yaml.text);
    const big = await call(base, 'POST', CMS, undefined, { raw: `{"x":"${'a'.repeat(3_200_000)}"}` });
    assert.equal(big.status, 413);
    const badName = await call(base, 'POST', CMS, { metadata: { name: 'Bad_Name' } });
    assert.equal(badName.status, 422);
    assert.equal(badName.body.details.causes[0].field, 'metadata.name');
    const kind = await call(base, 'POST', CMS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'k' } });
    assert.equal(kind.status, 400);
    assert.equal((await call(base, 'GET', '/version')).status, 200);
  });
});

describe('create and get', () => {
  test('9. POST pod → 201 with server fields and defaults', async () => {
    const r = await call(base, 'POST', PODS, pod('p9'));
    assert.equal(r.status, 201, r.text);
    const m = r.body.metadata;
    assert.match(m.uid, /^[0-9a-f-]{36}$/);
    assert.match(m.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(m.resourceVersion, /^\d+$/);
    assert.equal(m.generation, undefined);
    assert.equal(r.body.status.phase, 'Pending');
    assert.equal(r.body.status.qosClass, 'BestEffort');
    assert.equal(r.body.spec.restartPolicy, 'Always');
    assert.equal(r.body.spec.schedulerName, 'default-scheduler');
    assert.equal(r.body.spec.terminationGracePeriodSeconds, 30);
    assert.equal(r.body.spec.containers[0].imagePullPolicy, 'IfNotPresent');
    assert.ok(r.body.spec.tolerations.some((t: any) => t.key === 'node.kubernetes.io/not-ready'));
  });

  test('pod validation: no containers, GPU request ≠ limit, requests > limits → 422', async () => {
    const none = await call(base, 'POST', PODS, { metadata: { name: 'v1' }, spec: { containers: [] } });
    assert.equal(none.status, 422);
    const gpu = await call(base, 'POST', PODS, {
      metadata: { name: 'v2' },
      spec: {
        containers: [
          {
            name: 'c',
            image: 'i',
            resources: { requests: { 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '2' } },
          },
        ],
      },
    });
    assert.equal(gpu.status, 422);
    const cpu = await call(base, 'POST', PODS, {
      metadata: { name: 'v3' },
      spec: { containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }] },
    });
    assert.equal(cpu.status, 422);
    const g = await call(base, 'POST', PODS, {
      metadata: { name: 'v4' },
      spec: {
        containers: [
          {
            name: 'c',
            image: 'i',
            resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } },
          },
        ],
      },
    });
    assert.equal(g.body.status.qosClass, 'Guaranteed');
  });

  test('10. POST existing name → 409 AlreadyExists with details.kind = plural', async () => {
    await call(base, 'POST', PODS, pod('p10'));
    const r = await call(base, 'POST', PODS, pod('p10'));
    assert.equal(r.status, 409);
    assert.equal(r.body.reason, 'AlreadyExists');
    assert.equal(r.body.details.kind, 'pods');
    assert.equal(r.body.message, 'pods "p10" already exists');
  });

  test('11. generateName → name with 5 chars from the suffix alphabet', async () => {
    const r = await call(base, 'POST', CMS, { metadata: { generateName: 'w-' } });
    assert.equal(r.status, 201);
    assert.match(r.body.metadata.name, /^w-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const none = await call(base, 'POST', CMS, { metadata: {} });
    assert.equal(none.status, 422);
    assert.match(none.body.message, /name or generateName is required/);
  });

  test('12. body namespace ≠ URL namespace → 400', async () => {
    const r = await call(base, 'POST', CMS, { metadata: { name: 'x', namespace: 'other' } });
    assert.equal(r.status, 400);
    assert.match(r.body.message, /does not match the namespace/);
  });

  test('13. missing namespace → 404; terminating namespace → 403', async () => {
    const r = await call(base, 'POST', '/api/v1/namespaces/nope/configmaps', { metadata: { name: 'x' } });
    assert.equal(r.status, 404);
    assert.equal(r.body.message, 'namespaces "nope" not found');
    await call(base, 'POST', '/api/v1/namespaces', { metadata: { name: 'term' } });
    await call(base, 'POST', '/api/v1/namespaces/term/configmaps', {
      metadata: { name: 'held', finalizers: ['test/hold'] },
    });
    const d = await call(base, 'DELETE', '/api/v1/namespaces/term');
    assert.equal(d.status, 200);
    assert.equal(d.body.status.phase, 'Terminating');
    const f = await call(base, 'POST', '/api/v1/namespaces/term/configmaps', { metadata: { name: 'y' } });
    assert.equal(f.status, 403);
    assert.equal(f.body.reason, 'Forbidden');
    assert.match(f.body.message, /because it is being terminated/);
  });

  test('14. POST with resourceVersion → error, nothing stored', async () => {
    const r = await call(base, 'POST', CMS, { metadata: { name: 'rv14', resourceVersion: '5' } });
    assert.equal(r.status, 500);
    assert.match(r.body.message, /resourceVersion should not be set/);
    assert.equal((await call(base, 'GET', `${CMS}/rv14`)).status, 404);
  });

  test('15. CR create drops status when the status subresource is on', async () => {
    const r = await call(base, 'POST', WIDGETS, widget('w15', { size: 1 }, { body: { status: { phase: 'Hacked' } } }));
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.status, undefined);
    assert.equal(r.body.metadata.generation, 1);
  });

  test('16. unknown field: Strict → 400, Ignore → pruned, Warn → header', async () => {
    const strict = await call(base, 'POST', `${WIDGETS}?fieldValidation=Strict`, widget('w16', { size: 1, foo: 1 }));
    assert.equal(strict.status, 400);
    assert.match(strict.body.message, /strict decoding error: unknown field "spec.foo"/);
    const ign = await call(
      base,
      'POST',
      `${WIDGETS}?fieldValidation=Ignore`,
      widget('w16', { size: 1, foo: 1, extra: { any: { x: 1 } } }),
    );
    assert.equal(ign.status, 201);
    assert.equal(ign.body.spec.foo, undefined);
    assert.deepEqual(ign.body.spec.extra, { any: { x: 1 } }, 'preserve-unknown-fields keeps data');
    const warn = await call(base, 'POST', `${WIDGETS}?fieldValidation=Warn`, widget('w16b', { size: 1, bar: 2 }));
    assert.equal(warn.status, 201);
    assert.match(warn.headers.get('warning') ?? '', /299 - "unknown field \\"spec.bar\\""/);
    const bad = await call(base, 'POST', `${WIDGETS}?fieldValidation=Loud`, widget('w16c'));
    assert.equal(bad.status, 400);
  });

  test('17. CR missing required field → 422 Invalid with causes and details.kind = Kind', async () => {
    const r = await call(base, 'POST', WIDGETS, widget('w17', { color: 'red' }));
    assert.equal(r.status, 422);
    assert.equal(r.body.reason, 'Invalid');
    assert.equal(r.body.details.kind, 'Widget');
    assert.equal(r.body.details.group, 'test.kthena.io');
    assert.equal(r.body.details.causes[0].field, 'spec.size');
    assert.equal(r.body.details.causes[0].reason, 'FieldValueRequired');
    const en = await call(base, 'POST', WIDGETS, widget('w17', { size: -1, color: 'pink' }));
    assert.equal(en.status, 422);
    assert.equal(en.body.details.causes.length, 2);
  });

  test('18. defaults are applied', async () => {
    const r = await call(base, 'POST', WIDGETS, widget('w18', { size: 2 }));
    assert.equal(r.body.spec.color, 'blue');
    const pg = await call(base, 'POST', '/apis/scheduling.volcano.sh/v1beta1/namespaces/default/podgroups', {
      apiVersion: 'scheduling.volcano.sh/v1beta1',
      kind: 'PodGroup',
      metadata: { name: 'pg18' },
      spec: { minMember: 1, networkTopology: {} },
    });
    assert.equal(pg.status, 201, pg.text);
    assert.equal(pg.body.spec.queue, 'default');
    assert.deepEqual(pg.body.spec.networkTopology, { mode: 'hard', highestTierAllowed: 1 });
  });

  test('19. GET missing → 404 with qualified resource name', async () => {
    const r = await call(base, 'GET', `${WIDGETS}/nope`);
    assert.equal(r.status, 404);
    assert.equal(r.body.message, 'widgets.test.kthena.io "nope" not found');
    assert.deepEqual(r.body.details, { name: 'nope', group: 'test.kthena.io', kind: 'widgets' });
    const p = await call(base, 'GET', `${PODS}/nope`);
    assert.equal(p.body.message, 'pods "nope" not found');
  });
});

describe('update, patch and generation', () => {
  test('20. PUT with stale resourceVersion → 409 Conflict, object unchanged', async () => {
    const c = await call(base, 'POST', CMS, { metadata: { name: 'c20' }, data: { a: '1' } });
    const u = await call(base, 'PUT', `${CMS}/c20`, { ...c.body, data: { a: '2' } });
    assert.equal(u.status, 200);
    const stale = await call(base, 'PUT', `${CMS}/c20`, { ...c.body, data: { a: '3' } });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.reason, 'Conflict');
    assert.match(
      stale.body.message,
      /^Operation cannot be fulfilled on configmaps "c20": the object has been modified/,
    );
    assert.equal((await call(base, 'GET', `${CMS}/c20`)).body.data.a, '2');
  });

  test('21. PUT CR without resourceVersion → 422; ConfigMap → 200', async () => {
    const w = await call(base, 'POST', WIDGETS, widget('w21'));
    const { resourceVersion: _, ...meta } = w.body.metadata;
    const r = await call(base, 'PUT', `${WIDGETS}/w21`, { ...w.body, metadata: meta, spec: { size: 5 } });
    assert.equal(r.status, 422);
    assert.match(r.body.message, /metadata.resourceVersion: Invalid value: 0: must be specified for an update/);
    await call(base, 'POST', CMS, { metadata: { name: 'c21' } });
    const c = await call(base, 'PUT', `${CMS}/c21`, { metadata: { name: 'c21' }, data: { x: 'y' } });
    assert.equal(c.status, 200);
    const missing = await call(base, 'PUT', `${CMS}/nope21`, { metadata: { name: 'nope21' } });
    assert.equal(missing.status, 404);
    const mismatch = await call(base, 'PUT', `${CMS}/c21`, { metadata: { name: 'other' } });
    assert.equal(mismatch.status, 400);
  });

  test('22. identical PUT → same resourceVersion and no watch event', async () => {
    const c = await call(base, 'POST', CMS, { metadata: { name: 'c22' }, data: { a: '1' } });
    const w = await watch(
      base,
      `${CMS}?watch=true&resourceVersion=${c.body.metadata.resourceVersion}&fieldSelector=metadata.name%3Dc22`,
    );
    const same = await call(base, 'PUT', `${CMS}/c22`, c.body);
    assert.equal(same.status, 200);
    assert.equal(same.body.metadata.resourceVersion, c.body.metadata.resourceVersion);
    const noop = await call(
      base,
      'PATCH',
      `${CMS}/c22`,
      { data: { a: '1' } },
      { contentType: 'application/merge-patch+json' },
    );
    assert.equal(noop.body.metadata.resourceVersion, c.body.metadata.resourceVersion);
    await call(base, 'PATCH', `${CMS}/c22`, { data: { a: '2' } }, { contentType: 'application/merge-patch+json' });
    const ev = await w.next();
    assert.equal(ev.type, 'MODIFIED');
    assert.equal(ev.object.data.a, '2', 'the first event is the real change, not the no-ops');
    w.close();
  });

  test('23–24. CR generation: spec change +1, label change 0, status via main endpoint ignored', async () => {
    const w = await call(base, 'POST', WIDGETS, widget('w23', { size: 1 }));
    const s = await call(base, 'PUT', `${WIDGETS}/w23`, { ...w.body, spec: { ...w.body.spec, size: 2 } });
    assert.equal(s.body.metadata.generation, 2);
    const l = await call(base, 'PUT', `${WIDGETS}/w23`, {
      ...s.body,
      metadata: { ...s.body.metadata, labels: { a: 'b' } },
    });
    assert.equal(l.body.metadata.generation, 2);
    const st = await call(base, 'PUT', `${WIDGETS}/w23`, { ...l.body, status: { phase: 'X' } });
    assert.equal(st.status, 200);
    assert.equal(st.body.status, undefined);
    assert.equal(st.body.metadata.resourceVersion, l.body.metadata.resourceVersion);
  });

  test('25. PUT /status changes only status; generation unchanged', async () => {
    const w = await call(base, 'POST', WIDGETS, widget('w25', { size: 1 }));
    const r = await call(base, 'PUT', `${WIDGETS}/w25/status`, {
      ...w.body,
      metadata: { ...w.body.metadata, labels: { sneaky: 'yes' } },
      spec: { size: 99 },
      status: { phase: 'Ready', replicas: 1 },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.status.phase, 'Ready');
    assert.equal(r.body.spec.size, 1);
    assert.equal(r.body.metadata.labels, undefined);
    assert.equal(r.body.metadata.generation, 1);
    const merge = await call(
      base,
      'PATCH',
      `${WIDGETS}/w25/status`,
      { status: { phase: 'Done' } },
      { contentType: 'application/merge-patch+json' },
    );
    assert.equal(merge.body.status.phase, 'Done');
    assert.equal(merge.body.status.replicas, 1);
  });

  test('26. PodGroup (no status subresource): status via main endpoint stored, generation +1; /status → 404', async () => {
    const pgs = '/apis/scheduling.volcano.sh/v1beta1/namespaces/default/podgroups';
    const pg = await call(base, 'POST', pgs, {
      apiVersion: 'scheduling.volcano.sh/v1beta1',
      kind: 'PodGroup',
      metadata: { name: 'pg26' },
      spec: { minMember: 2 },
    });
    const r = await call(base, 'PUT', `${pgs}/pg26`, { ...pg.body, status: { phase: 'Inqueue' } });
    assert.equal(r.body.status.phase, 'Inqueue');
    assert.equal(r.body.metadata.generation, 2);
    assert.equal((await call(base, 'GET', `${pgs}/pg26/status`)).status, 404);
  });

  test('27. merge patch with null removes a label', async () => {
    await call(base, 'POST', CMS, { metadata: { name: 'c27', labels: { a: '1', b: '2' } } });
    const r = await call(
      base,
      'PATCH',
      `${CMS}/c27`,
      { metadata: { labels: { a: null } } },
      { contentType: 'application/merge-patch+json' },
    );
    assert.deepEqual(r.body.metadata.labels, { b: '2' });
  });

  test('28. JSON patch: failing test → 422, no change; plain object → 400', async () => {
    const c = await call(base, 'POST', CMS, { metadata: { name: 'c28' }, data: { a: '1' } });
    const t = await call(
      base,
      'PATCH',
      `${CMS}/c28`,
      [
        { op: 'test', path: '/data/a', value: '2' },
        { op: 'replace', path: '/data/a', value: '3' },
      ],
      { contentType: 'application/json-patch+json' },
    );
    assert.equal(t.status, 422);
    const obj = await call(
      base,
      'PATCH',
      `${CMS}/c28`,
      { data: { a: '5' } },
      { contentType: 'application/json-patch+json' },
    );
    assert.equal(obj.status, 400);
    const ok = await call(
      base,
      'PATCH',
      `${CMS}/c28`,
      [
        { op: 'test', path: '/data/a', value: '1' },
        { op: 'add', path: '/data/b~1c', value: 'x' },
      ],
      { contentType: 'application/json-patch+json' },
    );
    assert.equal(ok.status, 200);
    assert.equal(ok.body.data['b/c'], 'x');
    assert.notEqual(ok.body.metadata.resourceVersion, c.body.metadata.resourceVersion);
  });

  test('29. strategic merge on a CR → 415; unknown patch type → 415', async () => {
    await call(base, 'POST', WIDGETS, widget('w29'));
    const r = await call(
      base,
      'PATCH',
      `${WIDGETS}/w29`,
      { spec: { size: 3 } },
      { contentType: 'application/strategic-merge-patch+json' },
    );
    assert.equal(r.status, 415);
    assert.equal(r.body.reason, 'UnsupportedMediaType');
    const x = await call(base, 'PATCH', `${CMS}/c27`, { a: 1 }, { contentType: 'text/plain' });
    assert.equal(x.status, 415);
  });

  test('30. strategic merge on a pod: containers merged by name, conditions by type; directives not stored', async () => {
    // Adding an env var to a live pod is forbidden by pod validation (§7), so the merge-by-name of
    // env lists is covered in patch.test.ts; here the keyed merges a real client does on pods.
    await call(base, 'POST', PODS, pod('p30'));
    const r = await call(
      base,
      'PATCH',
      `${PODS}/p30`,
      {
        metadata: { labels: { x: 'y' } },
        spec: { containers: [{ name: 'c', image: 'busybox:1.37' }], '$setElementOrder/containers': [{ name: 'c' }] },
      },
      { contentType: 'application/strategic-merge-patch+json' },
    );
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(
      r.body.spec.containers[0].env.map((e: any) => e.name),
      ['A'],
      'env kept: containers merged by name, not replaced',
    );
    assert.equal(r.body.spec.containers[0].image, 'busybox:1.37');
    assert.ok(!JSON.stringify(r.body).includes('$setElementOrder'));
    const smp = { contentType: 'application/strategic-merge-patch+json' };
    await call(
      base,
      'PATCH',
      `${PODS}/p30/status`,
      { status: { conditions: [{ type: 'Ready', status: 'False' }] } },
      smp,
    );
    const s2 = await call(
      base,
      'PATCH',
      `${PODS}/p30/status`,
      { status: { conditions: [{ type: 'Initialized', status: 'True' }] } },
      smp,
    );
    assert.deepEqual(
      s2.body.status.conditions.map((c: any) => c.type),
      ['Ready', 'Initialized'],
    );
    const bad = await call(base, 'PATCH', `${PODS}/p30`, { $bogus: 1 }, smp);
    assert.equal(bad.status, 400);
  });

  test('31–33. server-side apply: create, conflicts, force, removal of dropped fields', async () => {
    const ssa = 'application/apply-patch+yaml';
    const a = await call(base, 'PATCH', `${WIDGETS}/w31?fieldManager=alice`, undefined, {
      raw: 'apiVersion: test.kthena.io/v1\nkind: Widget\nmetadata:\n  name: w31\n  labels:\n    team: a\nspec:\n  size: 1\n  replicas: 2\n',
      contentType: ssa,
    });
    assert.equal(a.status, 201, a.text);
    const mf = a.body.metadata.managedFields;
    assert.equal(mf.length, 1);
    assert.equal(mf[0].manager, 'alice');
    assert.equal(mf[0].operation, 'Apply');
    assert.ok(mf[0].fieldsV1['f:spec']['f:replicas']);
    const noMgr = await call(base, 'PATCH', `${WIDGETS}/w31`, undefined, {
      raw: 'apiVersion: test.kthena.io/v1\nkind: Widget\n',
      contentType: ssa,
    });
    assert.equal(noMgr.status, 400);
    const b = await call(base, 'PATCH', `${WIDGETS}/w31?fieldManager=bob`, undefined, {
      raw: JSON.stringify({
        apiVersion: 'test.kthena.io/v1',
        kind: 'Widget',
        metadata: { name: 'w31' },
        spec: { replicas: 5 },
      }),
      contentType: ssa,
    });
    assert.equal(b.status, 409);
    assert.equal(b.body.reason, 'Conflict');
    assert.equal(b.body.details.causes[0].reason, 'FieldManagerConflict');
    assert.equal(b.body.details.causes[0].field, '.spec.replicas');
    assert.match(b.body.message, /conflict with "alice"/);
    const same = await call(base, 'PATCH', `${WIDGETS}/w31?fieldManager=carol`, undefined, {
      raw: JSON.stringify({
        apiVersion: 'test.kthena.io/v1',
        kind: 'Widget',
        metadata: { name: 'w31' },
        spec: { size: 1 },
      }),
      contentType: ssa,
    });
    assert.equal(same.status, 200, 'equal values are shared, not conflicts');
    const forced = await call(base, 'PATCH', `${WIDGETS}/w31?fieldManager=bob&force=true`, undefined, {
      raw: JSON.stringify({
        apiVersion: 'test.kthena.io/v1',
        kind: 'Widget',
        metadata: { name: 'w31' },
        spec: { replicas: 5 },
      }),
      contentType: ssa,
    });
    assert.equal(forced.status, 200, forced.text);
    assert.equal(forced.body.spec.replicas, 5);
    const alice = forced.body.metadata.managedFields.find((e: any) => e.manager === 'alice');
    assert.equal(alice.fieldsV1['f:spec']['f:replicas'], undefined, 'ownership moved to bob');
    // alice re-applies without the label: it is removed (nobody else owns it)
    const again = await call(base, 'PATCH', `${WIDGETS}/w31?fieldManager=alice`, undefined, {
      raw: 'apiVersion: test.kthena.io/v1\nkind: Widget\nmetadata:\n  name: w31\nspec:\n  size: 1\n',
      contentType: ssa,
    });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.metadata.labels?.team, undefined);
    assert.equal(again.body.spec.replicas, 5, 'bob still owns replicas');
    const withMf = await call(base, 'PATCH', `${WIDGETS}/w31?fieldManager=alice`, undefined, {
      raw: JSON.stringify({
        apiVersion: 'test.kthena.io/v1',
        kind: 'Widget',
        metadata: { name: 'w31', managedFields: [] },
      }),
      contentType: ssa,
    });
    assert.equal(withMf.status, 400);
  });

  test('34. changing pod spec beyond image → 422 Forbidden', async () => {
    const p = await call(base, 'POST', PODS, pod('p34'));
    const r = await call(
      base,
      'PATCH',
      `${PODS}/p34`,
      { spec: { restartPolicy: 'Never' } },
      { contentType: 'application/merge-patch+json' },
    );
    assert.equal(r.status, 422);
    assert.match(r.body.message, /pod updates may not change fields other than/);
    const img = await call(base, 'PUT', `${PODS}/p34`, {
      ...p.body,
      spec: { ...p.body.spec, containers: [{ ...p.body.spec.containers[0], image: 'busybox:2' }] },
    });
    assert.equal(img.status, 200, img.text);
  });

  test('35–36. Lease: stale PUT → 409; MicroTime round-trips', async () => {
    const leases = '/apis/coordination.k8s.io/v1/namespaces/default/leases';
    const renew = '2026-01-01T12:00:00.123456Z';
    const l = await call(base, 'POST', leases, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'leader' },
      spec: { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: renew, acquireTime: renew },
    });
    assert.equal(l.body.spec.renewTime, renew);
    const b = await call(base, 'PUT', `${leases}/leader`, { ...l.body, spec: { ...l.body.spec, holderIdentity: 'b' } });
    assert.equal(b.status, 200);
    const a = await call(base, 'PUT', `${leases}/leader`, {
      ...l.body,
      spec: { ...l.body.spec, holderIdentity: 'a2' },
    });
    assert.equal(a.status, 409);
    assert.equal((await call(base, 'GET', `${leases}/leader`)).body.spec.holderIdentity, 'b');
  });
});

describe('dry run and Volcano kinds', () => {
  test('dryRun=All runs the pipeline but stores nothing and emits nothing', async () => {
    const rv = (await call(base, 'GET', CMS)).body.metadata.resourceVersion;
    const c = await call(base, 'POST', `${CMS}?dryRun=All`, { metadata: { name: 'dry' }, data: { a: '1' } });
    assert.equal(c.status, 201);
    assert.equal(c.body.metadata.name, 'dry');
    assert.equal((await call(base, 'GET', `${CMS}/dry`)).status, 404);
    const bad = await call(base, 'POST', `${WIDGETS}?dryRun=All`, widget('dry', { color: 'red' }));
    assert.equal(bad.status, 422, 'validation still runs');
    await call(base, 'POST', CMS, { metadata: { name: 'dry2' }, data: { a: '1' } });
    const u = await call(
      base,
      'PATCH',
      `${CMS}/dry2?dryRun=All`,
      { data: { a: '2' } },
      { contentType: 'application/merge-patch+json' },
    );
    assert.equal(u.body.data.a, '2');
    assert.equal((await call(base, 'GET', `${CMS}/dry2`)).body.data.a, '1');
    const d = await call(base, 'DELETE', `${CMS}/dry2?dryRun=All`);
    assert.equal(d.status, 200);
    assert.equal((await call(base, 'GET', `${CMS}/dry2`)).status, 200);
    assert.equal((await call(base, 'POST', `${CMS}?dryRun=Some`, { metadata: { name: 'x' } })).status, 400);
    assert.ok(Number((await call(base, 'GET', CMS)).body.metadata.resourceVersion) > Number(rv));
  });

  test('HyperNode member selectors: exactly one kind; labelMatch only for Node members', async () => {
    const hn = '/apis/topology.volcano.sh/v1alpha1/hypernodes';
    const mk = (name: string, members: unknown[]) => ({
      apiVersion: 'topology.volcano.sh/v1alpha1',
      kind: 'HyperNode',
      metadata: { name },
      spec: { tier: 1, members },
    });
    const ok = await call(base, 'POST', hn, mk('s0', [{ type: 'Node', selector: { exactMatch: { name: 'node-0' } } }]));
    assert.equal(ok.status, 201, ok.text);
    const two = await call(
      base,
      'POST',
      hn,
      mk('s1', [{ type: 'Node', selector: { exactMatch: { name: 'a' }, regexMatch: { pattern: 'b' } } }]),
    );
    assert.equal(two.status, 422);
    assert.equal(two.body.details.causes[0].field, 'spec.members[0].selector');
    const lbl = await call(
      base,
      'POST',
      hn,
      mk('s2', [{ type: 'HyperNode', selector: { labelMatch: { matchLabels: { a: 'b' } } } }]),
    );
    assert.equal(lbl.status, 422);
    const table = await call(base, 'GET', hn, undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    assert.deepEqual(
      table.body.columnDefinitions.map((c: any) => c.name),
      ['Name', 'Tier', 'TierName', 'NodeCount', 'Age'],
    );
  });
});
