// Reference §21 checks 37–54 (list, selectors, watch) against a running server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import type { ApiServer } from '../../src/cluster/apiserver/index.js';
import {
  CMS,
  call,
  eventually,
  PODS,
  pod,
  startTestServer,
  WIDGET_CRD,
  WIDGETS,
  watch,
  widget,
} from './cluster-helpers.js';

let srv: ApiServer;
let base: string;

before(async () => {
  srv = await startTestServer({ bookmarkIntervalMs: 200 });
  base = srv.url;
  assert.equal(
    (await call(base, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', WIDGET_CRD)).status,
    201,
  );
  await call(base, 'POST', '/api/v1/namespaces', { metadata: { name: 'ns-b' } });
});
after(async () => {
  await srv.close();
});

describe('list and selectors', () => {
  test('37. limit/continue pages are served at the first RV; last page has no continue', async () => {
    await call(base, 'POST', '/api/v1/namespaces', { metadata: { name: 'pages' } });
    for (let i = 0; i < 5; i++)
      await call(base, 'POST', '/api/v1/namespaces/pages/configmaps', { metadata: { name: `c${i}` } });
    const p1 = await call(base, 'GET', '/api/v1/namespaces/pages/configmaps?limit=2');
    assert.equal(p1.body.items.length, 2);
    assert.equal(p1.body.metadata.remainingItemCount, 3);
    const rv = p1.body.metadata.resourceVersion;
    await call(base, 'POST', '/api/v1/namespaces/pages/configmaps', { metadata: { name: 'c9' } });
    const p2 = await call(
      base,
      'GET',
      `/api/v1/namespaces/pages/configmaps?limit=2&continue=${p1.body.metadata.continue}`,
    );
    assert.equal(p2.body.metadata.resourceVersion, rv);
    const p3 = await call(
      base,
      'GET',
      `/api/v1/namespaces/pages/configmaps?limit=2&continue=${p2.body.metadata.continue}`,
    );
    assert.equal(p3.body.items.length, 1);
    assert.equal(p3.body.metadata.continue, undefined);
    const names = [...p1.body.items, ...p2.body.items, ...p3.body.items].map((c: any) => c.metadata.name);
    assert.deepEqual(names, ['c0', 'c1', 'c2', 'c3', 'c4'], 'the snapshot does not include the later c9');
    const both = await call(
      base,
      'GET',
      `/api/v1/namespaces/pages/configmaps?limit=2&resourceVersion=5&continue=${p1.body.metadata.continue}`,
    );
    assert.equal(both.status, 400);
  });

  test('38. an expired continue token → 410 Expired', async () => {
    const p1 = await call(base, 'GET', '/api/v1/namespaces/pages/configmaps?limit=1');
    srv.core.expireContinueTokens();
    const r = await call(
      base,
      'GET',
      `/api/v1/namespaces/pages/configmaps?limit=1&continue=${p1.body.metadata.continue}`,
    );
    assert.equal(r.status, 410);
    assert.equal(r.body.reason, 'Expired');
    assert.match(r.body.message, /continue parameter is too old/);
    const garbage = await call(base, 'GET', '/api/v1/namespaces/pages/configmaps?limit=1&continue=%%%');
    assert.equal(garbage.status, 400);
  });

  test('39–40. label selectors: set semantics, != matches missing keys, bad syntax → 400', async () => {
    await call(base, 'POST', '/api/v1/namespaces', { metadata: { name: 'sel' } });
    const mk = (name: string, labels: Record<string, string>) =>
      call(base, 'POST', '/api/v1/namespaces/sel/configmaps', { metadata: { name, labels } });
    await mk('a', { env: 'a' });
    await mk('b', { env: 'b', skip: 'yes' });
    await mk('c', { env: 'c' });
    await mk('none', {});
    const q = async (sel: string) =>
      (
        await call(base, 'GET', `/api/v1/namespaces/sel/configmaps?labelSelector=${encodeURIComponent(sel)}`)
      ).body.items.map((i: any) => i.metadata.name);
    assert.deepEqual(await q('env in (a,b),!skip'), ['a']);
    assert.deepEqual(await q('env!=a'), ['b', 'c', 'none']);
    assert.deepEqual(await q('env notin (a, b)'), ['c', 'none']);
    assert.deepEqual(await q('env'), ['a', 'b', 'c']);
    assert.deepEqual(await q('env==c'), ['c']);
    const bad = await call(
      base,
      'GET',
      `/api/v1/namespaces/sel/configmaps?labelSelector=${encodeURIComponent('env in (a')}`,
    );
    assert.equal(bad.status, 400);
    const bad2 = await call(
      base,
      'GET',
      `/api/v1/namespaces/sel/configmaps?labelSelector=${encodeURIComponent('a=b=c')}`,
    );
    assert.equal(bad2.status, 400);
  });

  test('41. pod field selectors and unknown fields', async () => {
    await call(base, 'POST', PODS, pod('f1'));
    await call(base, 'POST', PODS, pod('f2'));
    await call(base, 'POST', `${PODS}/f1/binding`, {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: 'f1' },
      target: { kind: 'Node', name: 'n1' },
    });
    const r = await call(
      base,
      'GET',
      `${PODS}?fieldSelector=${encodeURIComponent('spec.nodeName=n1,status.phase!=Succeeded')}`,
    );
    assert.deepEqual(
      r.body.items.map((i: any) => i.metadata.name),
      ['f1'],
    );
    const unbound = await call(base, 'GET', `${PODS}?fieldSelector=${encodeURIComponent('spec.nodeName=')}`);
    assert.ok(unbound.body.items.some((i: any) => i.metadata.name === 'f2'));
    const bad = await call(base, 'GET', `${PODS}?fieldSelector=spec.foo%3Dx`);
    assert.equal(bad.status, 400);
    assert.match(
      bad.body.message,
      /"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"/,
    );
  });

  test('42. event field selector by involvedObject.uid', async () => {
    const ev = (name: string, uid: string) =>
      call(base, 'POST', '/api/v1/namespaces/default/events', {
        metadata: { name },
        involvedObject: { kind: 'Pod', namespace: 'default', name: 'x', uid },
        reason: 'Test',
        message: 'm',
        type: 'Normal',
        source: { component: 'test' },
      });
    await ev('e1', 'u1');
    await ev('e2', 'u2');
    const r = await call(base, 'GET', `/api/v1/namespaces/default/events?fieldSelector=involvedObject.uid%3Du1`);
    assert.deepEqual(
      r.body.items.map((i: any) => i.metadata.name),
      ['e1'],
    );
    const src = await call(base, 'GET', `/api/v1/namespaces/default/events?fieldSelector=source%3Dtest`);
    assert.equal(src.body.items.length, 2);
  });

  test('43. CR lists carry apiVersion/kind; order by namespace then name; built-in items do not', async () => {
    await call(base, 'POST', WIDGETS, widget('zz'));
    await call(base, 'POST', WIDGETS, widget('aa'));
    await call(base, 'POST', '/apis/test.kthena.io/v1/namespaces/ns-b/widgets', widget('mm'));
    const r = await call(base, 'GET', '/apis/test.kthena.io/v1/widgets');
    assert.equal(r.body.kind, 'WidgetList');
    assert.deepEqual(
      r.body.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`),
      ['default/aa', 'default/zz', 'ns-b/mm'],
    );
    assert.ok(r.body.items.every((i: any) => i.kind === 'Widget' && i.apiVersion === 'test.kthena.io/v1'));
    const cms = await call(base, 'GET', CMS);
    assert.equal(cms.body.kind, 'ConfigMapList');
    assert.ok(cms.body.items.every((i: any) => i.kind === undefined));
  });
});

describe('watch', () => {
  test('44. without RV: synthetic ADDED, then live events, one JSON object per line', async () => {
    await call(base, 'POST', '/api/v1/namespaces', { metadata: { name: 'w44' } });
    await call(base, 'POST', '/api/v1/namespaces/w44/configmaps', { metadata: { name: 'pre' } });
    const w = await watch(base, '/api/v1/namespaces/w44/configmaps?watch=true');
    assert.equal(w.contentType, 'application/json');
    const e1 = await w.next();
    assert.equal(e1.type, 'ADDED');
    assert.equal(e1.object.metadata.name, 'pre');
    assert.equal(e1.object.kind, 'ConfigMap');
    await call(base, 'POST', '/api/v1/namespaces/w44/configmaps', { metadata: { name: 'live' } });
    const e2 = await w.next();
    assert.equal(e2.object.metadata.name, 'live');
    assert.ok(w.rawLines.every((l) => !l.includes('\n') && JSON.parse(l)));
    w.close();
  });

  test('45 + 48. from a list RV: ordered ADDED/MODIFIED/DELETED; DELETED carries the deletion RV', async () => {
    const list = await call(base, 'GET', CMS);
    const w = await watch(base, `${CMS}?watch=1&resourceVersion=${list.body.metadata.resourceVersion}`);
    const c = await call(base, 'POST', CMS, { metadata: { name: 'w45' } });
    await call(base, 'PATCH', `${CMS}/w45`, { data: { a: 'b' } }, { contentType: 'application/merge-patch+json' });
    await call(base, 'DELETE', `${CMS}/w45`);
    const evs = [await w.next(), await w.next(), await w.next()];
    assert.deepEqual(
      evs.map((e) => e.type),
      ['ADDED', 'MODIFIED', 'DELETED'],
    );
    const rvs = evs.map((e) => Number(e.object.metadata.resourceVersion));
    assert.ok(rvs[0] < rvs[1] && rvs[1] < rvs[2]);
    assert.equal(evs[0].object.metadata.uid, c.body.metadata.uid);
    const after = await call(base, 'GET', CMS);
    assert.ok(rvs[2] <= Number(after.body.metadata.resourceVersion));
    w.close();
  });

  test('46. RV older than the retained history → one ERROR 410 Expired event, then the stream closes', async () => {
    const list = await call(base, 'GET', CMS);
    const old = list.body.metadata.resourceVersion;
    await call(base, 'POST', CMS, { metadata: { name: 'w46' } });
    srv.compactHistory();
    const w = await watch(base, `${CMS}?watch=true&resourceVersion=${old}`);
    const e = await w.next();
    assert.equal(e.type, 'ERROR');
    assert.equal(e.object.code, 410);
    assert.equal(e.object.reason, 'Expired');
    assert.match(e.object.message, /^too old resource version: \d+ \(\d+\)$/);
    await w.ended;
    assert.equal(w.events.length, 1);
  });

  test('47. relabelled out of the selector → DELETED; back in → ADDED', async () => {
    await call(base, 'POST', CMS, { metadata: { name: 'w47', labels: { app: 'on' } } });
    const w = await watch(base, `${CMS}?watch=true&labelSelector=app%3Don`);
    assert.equal((await w.next()).type, 'ADDED');
    const mp = { contentType: 'application/merge-patch+json' };
    await call(base, 'PATCH', `${CMS}/w47`, { metadata: { labels: { app: 'off' } } }, mp);
    const out = await w.next();
    assert.equal(out.type, 'DELETED');
    assert.equal(out.object.metadata.labels.app, 'off');
    await call(base, 'PATCH', `${CMS}/w47`, { metadata: { labels: { app: 'on' } } }, mp);
    assert.equal((await w.next()).type, 'ADDED');
    w.close();
  });

  test('49. bookmarks only when asked; they carry only kind/apiVersion/metadata.resourceVersion', async () => {
    const rv = (await call(base, 'GET', CMS)).body.metadata.resourceVersion;
    const w = await watch(base, `${CMS}?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`);
    const b = await w.next();
    assert.equal(b.type, 'BOOKMARK');
    assert.deepEqual(Object.keys(b.object).sort(), ['apiVersion', 'kind', 'metadata']);
    assert.deepEqual(Object.keys(b.object.metadata), ['resourceVersion']);
    assert.ok(Number(b.object.metadata.resourceVersion) >= Number(rv));
    w.close();
    const plain = await watch(base, `${CMS}?watch=true&resourceVersion=${rv}&timeoutSeconds=1`);
    await plain.ended;
    assert.ok(plain.events.every((e) => e.type !== 'BOOKMARK'));
  });

  test('50. timeoutSeconds ends the stream cleanly without an ERROR', async () => {
    const rv = (await call(base, 'GET', CMS)).body.metadata.resourceVersion;
    const w = await watch(base, `${CMS}?watch=true&resourceVersion=${rv}&timeoutSeconds=1`);
    await w.ended;
    assert.ok(w.events.every((e) => e.type !== 'ERROR'));
  });

  test('51. sendInitialEvents: ADDEDs then an annotated BOOKMARK; invalid combination → 422', async () => {
    await call(base, 'POST', '/api/v1/namespaces', { metadata: { name: 'w51' } });
    await call(base, 'POST', '/api/v1/namespaces/w51/configmaps', { metadata: { name: 'a' } });
    await call(base, 'POST', '/api/v1/namespaces/w51/configmaps', { metadata: { name: 'b' } });
    const w = await watch(
      base,
      '/api/v1/namespaces/w51/configmaps?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&resourceVersion=0',
    );
    assert.equal((await w.next()).type, 'ADDED');
    assert.equal((await w.next()).type, 'ADDED');
    const b = await w.next();
    assert.equal(b.type, 'BOOKMARK');
    assert.equal(b.object.metadata.annotations['k8s.io/initial-events-end'], 'true');
    w.close();
    const bad = await call(base, 'GET', '/api/v1/namespaces/w51/configmaps?watch=true&sendInitialEvents=true');
    assert.equal(bad.status, 422);
  });

  test('52. Table watch: first event has columnDefinitions, later ones not; one row each', async () => {
    const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
    const rv = (await call(base, 'GET', PODS)).body.metadata.resourceVersion;
    const w = await watch(base, `${PODS}?watch=true&resourceVersion=${rv}`, accept);
    await call(base, 'POST', PODS, pod('t52'));
    await call(
      base,
      'PATCH',
      `${PODS}/t52`,
      { metadata: { labels: { a: 'b' } } },
      { contentType: 'application/merge-patch+json' },
    );
    const e1 = await w.next();
    const e2 = await w.next();
    assert.equal(e1.object.kind, 'Table');
    assert.ok(Array.isArray(e1.object.columnDefinitions));
    assert.equal(e2.object.columnDefinitions, undefined);
    assert.equal(e1.object.rows.length, 1);
    assert.equal(e1.object.rows[0].cells[0], 't52');
    w.close();
  });

  test('53. client-node informer relists across a forced compaction and reports deletions', async () => {
    await call(base, 'POST', '/api/v1/namespaces', { metadata: { name: 'inf' } });
    await call(base, 'POST', '/api/v1/namespaces/inf/configmaps', { metadata: { name: 'keep' } });
    await call(base, 'POST', '/api/v1/namespaces/inf/configmaps', { metadata: { name: 'gone' } });
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: base, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
      currentContext: 'ctx',
    });
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/inf/configmaps', () =>
      core.listNamespacedConfigMap({ namespace: 'inf' }),
    );
    const deleted: string[] = [];
    const added: string[] = [];
    informer.on('add', (o) => added.push(o.metadata!.name!));
    informer.on('delete', (o) => deleted.push(o.metadata!.name!));
    await informer.start();
    await eventually(() => added.length === 2 || undefined, 10_000, 'initial adds');
    // In one synchronous step: end the informer's watch, delete an object (its event reaches no
    // watcher) and compact history — the reconnect from the old RV gets 410 and must relist.
    srv.closeWatches();
    const cmType = srv.core.registry.builtin('', 'configmaps');
    const del = srv.core.delete(cmType, 'inf', 'gone');
    srv.compactHistory();
    await del;
    await eventually(() => deleted.includes('gone') || undefined, 10_000, 'delete seen');
    await call(base, 'POST', '/api/v1/namespaces/inf/configmaps', { metadata: { name: 'new' } });
    await eventually(() => added.includes('new') || undefined, 10_000, 'resumed');
    await informer.stop();
  });

  test('54. client disconnect releases the watcher', async () => {
    await eventually(() => srv.core.store.watcherCount() === 0 || undefined, 5000, 'earlier watchers gone');
    const before = 0;
    const ws = await Promise.all([1, 2, 3].map(() => watch(base, `${CMS}?watch=true`)));
    assert.equal(srv.core.store.watcherCount(), before + 3);
    for (const w of ws) w.close();
    await eventually(() => srv.core.store.watcherCount() === before || undefined, 5000, 'watchers released');
  });

  test('watch on a single object by name with resourceVersion=0 starts with ADDED', async () => {
    await call(base, 'POST', CMS, { metadata: { name: 'single' } });
    const w = await watch(base, `${CMS}?watch=true&fieldSelector=metadata.name%3Dsingle&resourceVersion=0`);
    const e = await w.next();
    assert.equal(e.type, 'ADDED');
    assert.equal(e.object.metadata.name, 'single');
    w.close();
  });
});
