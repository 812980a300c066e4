import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { budgetStatus, evictionVerdict, pendingDisruptions, scaled, validatePdb } from './disruption.js';
import { type ApiServer, startApiServer } from './index.js';
import type { Obj } from './util.js';

function pod(name: string, ready: boolean, extra: Obj = {}): Obj {
  return {
    metadata: { name, labels: { app: 'llm' }, ...(extra.metadata ?? {}) },
    status: {
      phase: extra.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
}
const pdb = (spec: Obj): Obj => ({
  metadata: { name: 'b' },
  spec: { selector: { matchLabels: { app: 'llm' } }, ...spec },
});

describe('budget arithmetic', () => {
  test('int-or-percent scaling rounds as asked', () => {
    assert.equal(scaled(2, 10, true), 2);
    assert.equal(scaled('25%', 10, true), 3);
    assert.equal(scaled('25%', 10, false), 2);
    assert.equal(scaled('x', 10, true), undefined);
    assert.equal(scaled(-1, 10, true), undefined);
  });

  test('minAvailable and maxUnavailable; terminating pods count as expected but not healthy', () => {
    const pods = [pod('a', true), pod('b', true), pod('c', true)];
    assert.deepEqual(budgetStatus(pdb({ maxUnavailable: 1 }), pods), {
      expectedPods: 3,
      currentHealthy: 3,
      desiredHealthy: 2,
      disruptionsAllowed: 1,
    });
    pods[0].metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    assert.equal(budgetStatus(pdb({ maxUnavailable: 1 }), pods).disruptionsAllowed, 0);
    assert.equal(budgetStatus(pdb({ minAvailable: 1 }), pods).disruptionsAllowed, 1);
    assert.equal(budgetStatus(pdb({ minAvailable: '50%' }), pods).desiredHealthy, 2);
    // finished pods and pods of other apps are not counted
    const other = pod('x', true, { metadata: { labels: { app: 'other' } } });
    assert.equal(
      budgetStatus(pdb({ minAvailable: 1 }), [...pods, other, pod('d', false, { phase: 'Failed' })]).expectedPods,
      3,
    );
    // a null selector selects nothing; an empty one everything
    assert.equal(budgetStatus({ metadata: { name: 'n' }, spec: { minAvailable: 1 } }, pods).expectedPods, 0);
    assert.equal(budgetStatus({ metadata: { name: 'e' }, spec: { selector: {} } }, [other]).expectedPods, 1);
  });

  test('an evicted pod counts as expected until replaced or timed out', () => {
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const b = pdb({ maxUnavailable: 1 });
    b.status = { disruptedPods: { a: '2026-01-01T00:00:00Z' } };
    const pods = [pod('b', true), pod('c', true)];
    assert.deepEqual(budgetStatus(b, pods, t0 + 1000), {
      expectedPods: 3,
      currentHealthy: 2,
      desiredHealthy: 2,
      disruptionsAllowed: 0,
    });
    assert.deepEqual(pendingDisruptions(b, pods, t0 + 3 * 60_000), {}, 'timed out');
    const replaced = pod('a', false, { metadata: { creationTimestamp: '2026-01-01T00:00:05Z' } });
    assert.deepEqual(pendingDisruptions(b, [...pods, replaced], t0 + 10_000), {}, 'replaced by a new pod');
    assert.equal(budgetStatus(b, [...pods, replaced], t0 + 10_000).expectedPods, 3);
  });

  test('verdicts: free pods, one budget, unhealthy pods, more than one budget', () => {
    const pods = [pod('a', true), pod('b', true), pod('c', false)];
    const b = pdb({ minAvailable: 2 });
    assert.deepEqual(evictionVerdict(pods[0], [], pods), { allow: true });
    const refused = evictionVerdict(pods[0], [b], pods);
    assert.equal(refused.allow, false);
    assert.ok(!refused.allow && refused.code === 429);
    assert.match(JSON.stringify(refused), /needs 2 healthy pods and has 2 currently/);
    // the unhealthy pod may go: the budget is met (IfHealthyBudget)
    assert.deepEqual(evictionVerdict(pods[2], [b], pods), { allow: true });
    // ... but not when the budget is not met, unless AlwaysAllow
    const tight = pdb({ minAvailable: 3 });
    assert.equal(evictionVerdict(pods[2], [tight], pods).allow, false);
    assert.equal(
      evictionVerdict(pods[2], [pdb({ minAvailable: 3, unhealthyPodEvictionPolicy: 'AlwaysAllow' })], pods).allow,
      true,
    );
    // pending and terminating pods are never protected
    assert.equal(evictionVerdict(pod('p', false, { phase: 'Pending' }), [tight], pods).allow, true);
    const two = evictionVerdict(pods[0], [b, { ...b, metadata: { name: 'b2' } }], pods);
    assert.ok(!two.allow && two.code === 500);
  });

  test('validation: both fields, bad values, bad policy', () => {
    assert.deepEqual(validatePdb(pdb({ minAvailable: 1 })), []);
    assert.equal(validatePdb(pdb({ minAvailable: 1, maxUnavailable: 1 })).length, 1);
    assert.equal(validatePdb(pdb({ minAvailable: -1 })).length, 1);
    assert.equal(validatePdb(pdb({ maxUnavailable: '150%' })).length, 1);
    assert.equal(validatePdb(pdb({ maxUnavailable: 'x' })).length, 1);
    assert.equal(validatePdb(pdb({ unhealthyPodEvictionPolicy: 'Sometimes' })).length, 1);
    assert.equal(validatePdb(pdb({ selector: { matchExpressions: [{ key: 'a', operator: 'Near' }] } })).length, 1);
  });
});

describe('pods/eviction on the local API server', () => {
  let api: ApiServer;
  const req = async (method: string, path: string, body?: unknown, raw?: string) => {
    const r = await fetch(api.url + path, {
      method,
      headers: body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {},
      body: raw ?? (body !== undefined ? JSON.stringify(body) : undefined),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };
  const NS = '/api/v1/namespaces/default';
  const evict = (name: string, body: unknown = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name } }) =>
    req('POST', `${NS}/pods/${name}/eviction`, body);
  const makePod = async (name: string) => {
    const r = await req('POST', `${NS}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { app: 'llm' } },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    assert.equal(r.status, 201);
    const p = r.body;
    p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
    assert.equal((await req('PUT', `${NS}/pods/${name}/status`, p)).status, 200);
  };

  before(async () => {
    api = await startApiServer({ port: 0, installVolcanoCrds: false });
  });
  after(async () => {
    await api.close();
  });

  test('discovery advertises pods/eviction as policy/v1 Eviction (what kubectl drain checks)', async () => {
    const r = await req('GET', '/api/v1');
    const ev = r.body.resources.find((x: Obj) => x.name === 'pods/eviction');
    assert.deepEqual([ev.kind, ev.group, ev.version, ev.verbs], ['Eviction', 'policy', 'v1', ['create']]);
    const g = await req('GET', '/apis/policy/v1');
    assert.ok(g.body.resources.some((x: Obj) => x.name === 'poddisruptionbudgets' && x.shortNames.includes('pdb')));
  });

  test('evictions honour the budget: 201 while allowed, then 429 TooManyRequests; status is kept', async () => {
    for (const n of ['e1', 'e2', 'e3']) await makePod(n);
    const created = await req('POST', '/apis/policy/v1/namespaces/default/poddisruptionbudgets', {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'llm' },
      spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'llm' } } },
    });
    assert.equal(created.status, 201);
    let st: Obj | undefined;
    for (let i = 0; i < 200 && st?.disruptionsAllowed !== 1; i++) {
      await new Promise((r) => setTimeout(r, 10));
      st = (await req('GET', '/apis/policy/v1/namespaces/default/poddisruptionbudgets/llm')).body.status;
    }
    assert.equal(st?.expectedPods, 3);
    const [a, b] = await Promise.all([evict('e1'), evict('e2')]);
    assert.deepEqual([a.status, b.status].sort(), [201, 429], 'concurrent evictions never both pass');
    const refused = a.status === 429 ? a : b;
    assert.equal(refused.body.reason, 'TooManyRequests');
    assert.equal(refused.body.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.equal(refused.body.details.causes[0].reason, 'DisruptionBudget');
    // the evicted pod is gone (no node: deleted at once); the other two remain
    const names = (await req('GET', `${NS}/pods?labelSelector=app%3Dllm`)).body.items.map((p: Obj) => p.metadata.name);
    assert.equal(names.length, 2);
  });

  test('hostile input gets Status errors and the server keeps serving', async () => {
    assert.equal((await evict('nope')).status, 404);
    assert.equal((await req('POST', `${NS}/pods/e3/eviction`, undefined, '{not json')).status, 400);
    assert.equal((await evict('e3', [1, 2])).status, 400);
    assert.equal((await evict('e3', { kind: 'Binding' })).status, 400);
    assert.equal((await evict('e3', { kind: 'Eviction', metadata: { name: 'other' } })).status, 400);
    assert.equal((await evict('e3', { kind: 'Eviction', deleteOptions: { gracePeriodSeconds: -5 } })).status, 400);
    assert.equal((await evict('e3', { kind: 'Eviction', apiVersion: 'policy/v9' })).status, 400);
    assert.equal((await req('GET', `${NS}/pods/e3/eviction`)).status, 405);
    const bad = await req('POST', '/apis/policy/v1/namespaces/default/poddisruptionbudgets', {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'both' },
      spec: { maxUnavailable: 1, minAvailable: 1, selector: {} },
    });
    assert.equal(bad.status, 422);
    // a second budget over the same pods: the eviction subresource refuses with 500, as upstream does
    const second = await req('POST', '/apis/policy/v1/namespaces/default/poddisruptionbudgets', {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'second' },
      spec: { minAvailable: 0, selector: { matchLabels: { app: 'llm' } } },
    });
    assert.equal(second.status, 201);
    const r = await evict('e3');
    assert.equal(r.status, 500);
    assert.match(r.body.message, /more than one PodDisruptionBudget/);
    assert.equal((await req('GET', `${NS}/pods/e3`)).status, 200, 'still serving, pod untouched');
  });
});
