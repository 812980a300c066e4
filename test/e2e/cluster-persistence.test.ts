// --data-dir: every acknowledged write survives a restart (also a SIGKILL); watches resume (410 → relist).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'yaml';
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

const dirs: string[] = [];
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kthena-data-'));
  dirs.push(d);
  return d;
}

test('restart with --data-dir keeps objects, CRDs, resourceVersions and deletions', async () => {
  const dataDir = await tmp();
  let srv = await startTestServer({ dataDir });
  assert.equal(
    (await call(srv.url, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', WIDGET_CRD)).status,
    201,
  );
  const w = await call(srv.url, 'POST', WIDGETS, widget('keep', { size: 3 }));
  await call(srv.url, 'PUT', `${WIDGETS}/keep/status`, { ...w.body, status: { phase: 'Ready' } });
  await call(srv.url, 'POST', PODS, pod('p'));
  await call(srv.url, 'POST', CMS, { metadata: { name: 'gone' } });
  await call(srv.url, 'DELETE', `${CMS}/gone`);
  await call(srv.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'extra' } });
  const before = await call(srv.url, 'GET', `${WIDGETS}/keep`);
  const listRV = (await call(srv.url, 'GET', CMS)).body.metadata.resourceVersion;
  await srv.close();

  srv = await startTestServer({ dataDir });
  try {
    const afterGet = await call(srv.url, 'GET', `${WIDGETS}/keep`);
    assert.deepEqual(afterGet.body, before.body);
    assert.equal(afterGet.body.status.phase, 'Ready');
    assert.equal((await call(srv.url, 'GET', `${PODS}/p`)).status, 200);
    assert.equal((await call(srv.url, 'GET', `${CMS}/gone`)).status, 404);
    assert.equal((await call(srv.url, 'GET', '/api/v1/namespaces/extra')).status, 200);
    const disc = await call(srv.url, 'GET', '/apis/test.kthena.io/v1');
    assert.equal(disc.body.resources[0].name, 'widgets');
    const rv2 = (await call(srv.url, 'GET', CMS)).body.metadata.resourceVersion;
    assert.ok(Number(rv2) >= Number(listRV), 'the global RV never goes back');
    const c = await call(srv.url, 'POST', CMS, { metadata: { name: 'new' } });
    assert.ok(Number(c.body.metadata.resourceVersion) > Number(rv2));
    // History is not persisted: a watch from an RV older than the restart point gets 410 and relists.
    const old = await watch(srv.url, `${CMS}?watch=true&resourceVersion=${w.body.metadata.resourceVersion}`);
    const e = await old.next();
    assert.equal(e.type, 'ERROR');
    assert.equal(e.object.code, 410);
    // A watch from the current RV works.
    const cur = await watch(srv.url, `${CMS}?watch=true&resourceVersion=${c.body.metadata.resourceVersion}`);
    await call(srv.url, 'DELETE', `${CMS}/new`);
    assert.equal((await cur.next()).type, 'DELETED');
    cur.close();
  } finally {
    await srv.close();
  }
});

test('a torn last log line (crash mid-write) is ignored; earlier writes are kept', async () => {
  const dataDir = await tmp();
  let srv = await startTestServer({ dataDir });
  await call(srv.url, 'POST', CMS, { metadata: { name: 'a' } });
  await srv.close();
  await appendFile(join(dataDir, 'wal.jsonl'), '{"rv":999,"r":"/configmaps","k":"default/b","o":{"meta');
  srv = await startTestServer({ dataDir });
  try {
    assert.equal((await call(srv.url, 'GET', `${CMS}/a`)).status, 200);
    assert.equal((await call(srv.url, 'GET', `${CMS}/b`)).status, 404);
  } finally {
    await srv.close();
  }
});

function startCli(dataDir: string, kubeconfig: string): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'cluster',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--kubeconfig',
      kubeconfig,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  return child;
}

async function serverOf(kubeconfig: string, child: ChildProcess): Promise<string> {
  let out = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  return eventually(
    async () => {
      const m = /API server at (http:\/\/\S+)/.exec(out);
      if (!m) return undefined;
      const kc = parse(await readFile(kubeconfig, 'utf8'));
      assert.equal(kc.clusters[0].cluster.server, m[1]);
      return m[1];
    },
    60_000,
    'kthena cluster start-up',
  );
}

test('kthena cluster --data-dir: writes acknowledged before a SIGKILL are there after restart', async () => {
  const dataDir = await tmp();
  const kubeconfig = join(dataDir, 'kc.yaml');
  let child = startCli(dataDir, kubeconfig);
  let base = await serverOf(kubeconfig, child);
  // The CLI's API server requires the token it wrote into the kubeconfig (kept in the data dir across restarts).
  const token = /token: (\S+)/.exec(await readFile(kubeconfig, 'utf8'))?.[1] ?? '';
  const auth = { headers: { authorization: `Bearer ${token}` } };
  const names: string[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await call(base, 'POST', CMS, { metadata: { name: `k${i}` }, data: { i: String(i) } }, auth);
    assert.equal(r.status, 201);
    names.push(r.body.metadata.name);
  }
  await call(base, 'DELETE', `${CMS}/k0`, undefined, auth);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  child = startCli(dataDir, kubeconfig);
  base = await serverOf(kubeconfig, child);
  const list = await call(base, 'GET', CMS, undefined, auth);
  const got = list.body.items.map((i: any) => i.metadata.name).sort();
  assert.deepEqual(got, names.slice(1).sort());
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
});
