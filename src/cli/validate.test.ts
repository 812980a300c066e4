import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { renderCrdsYaml } from '../api/index.js';
import { runValidate } from './validate.js';

const ROOT = join(import.meta.dirname, '..', '..');
const INVALID = join(ROOT, 'test', 'fixtures', 'invalid');
const tmp = mkdtempSync(join(tmpdir(), 'kthena-validate-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function run(paths: string[], opts: { strict?: boolean } = {}): { status: number; lines: string[] } {
  const lines: string[] = [];
  const status = runValidate(paths, opts, (l) => lines.push(l));
  return { status, lines };
}

const ROUTE = `apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ModelRoute
metadata: {name: ok}
spec:
  modelName: ok
  rules: [{targetModels: [{modelServerName: s}]}]
`;

// Each fixture lists the exact lines it must produce as `# expect: ...` comments.
for (const name of readdirSync(INVALID).filter((f) => /\.ya?ml$/.test(f))) {
  test(`fixture ${name} fails with the expected file:line, document and path`, () => {
    const file = join(INVALID, name);
    const text = readFileSync(file, 'utf8');
    const expected = [...text.matchAll(/^# expect: (.*)$/gm)].map((m) => m[1]);
    assert.ok(expected.length > 0, 'fixture declares no expectations');
    const strict = name === 'unknown-fields.yaml';
    const loose = run([file]);
    const r = strict ? run([file], { strict: true }) : loose;
    assert.equal(r.status, 1, r.lines.join('\n'));
    if (strict) assert.equal(loose.status, 0, 'unknown fields are only warnings without --strict');
    const out = (strict ? loose : r).lines.map((l) => (l.startsWith(`${INVALID}/`) ? l.slice(INVALID.length + 1) : l));
    for (const e of expected) {
      assert.ok(
        out.some((l) => l.startsWith(e)),
        `missing line starting with:\n  ${e}\ngot:\n  ${out.join('\n  ')}`,
      );
    }
    for (const l of r.lines) assert.doesNotMatch(l, /\n\s+at /, 'no stack traces');
  });
}

test('a YAML syntax error names the file and line; the valid documents before it are still checked', () => {
  // Written here rather than committed: the repository's linters parse YAML under test/ too.
  const file = join(tmp, 'syntax-error.yaml');
  writeFileSync(file, `${ROUTE}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [broken\ndata: {}\n`);
  const r = run([file]);
  assert.equal(r.status, 1);
  assert.deepEqual(r.lines, [
    `${file}:12: document 2: error: YAML syntax error at line 12: Flow sequence in block collection must be sufficiently indented and end with a ]`,
    'FAILED: 1 error, 0 warnings (1 document in 1 file)',
  ]);
});

test('a 5 MB document is refused with its size, and the documents around it are still checked', () => {
  const big = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n${Array.from({ length: 60000 }, (_, i) => `  k${i}: ${'v'.repeat(80)}`).join('\n')}\n`;
  const file = join(tmp, 'big.yaml');
  writeFileSync(file, `${ROUTE}---\n${big}---\n${ROUTE.replace('modelName: ok', 'modelName: 5')}`);
  const r = run([file]);
  assert.equal(r.status, 1);
  const text = r.lines.join('\n');
  assert.match(
    text,
    /big\.yaml:8: document 2: error: document is 5\.\d MiB; the Kubernetes API server accepts at most 3\.0 MiB per object/,
  );
  assert.match(text, /document 3 \(ModelRoute\/ok\): error: spec\.modelName: must be a string, got number 5/);
  assert.doesNotMatch(text, /document 1 /);
});

test('a 10,000-item array gets one message, not 10,000', () => {
  const rules = Array.from({ length: 10000 }, () => '  - targetModels: [{modelServerName: s}]').join('\n');
  const file = join(tmp, 'many.yaml');
  writeFileSync(
    file,
    `apiVersion: networking.serving.volcano.sh/v1alpha1\nkind: ModelRoute\nmetadata: {name: many}\nspec:\n  modelName: m\n  rules:\n${rules}\n`,
  );
  const r = run([file]);
  assert.equal(r.status, 1);
  assert.deepEqual(
    r.lines.filter((l) => l.includes(': error: ')),
    [`${file}:7: document 1 (ModelRoute/many): error: spec.rules: must have at most 16 items, has 10000`],
  );
});

test('errors in a huge unbounded list are capped with a count of the rest', () => {
  const containers = Array.from({ length: 500 }, (_, i) => `              - {name: c${i}, image: 7}`).join('\n');
  const file = join(tmp, 'capped.yaml');
  writeFileSync(
    file,
    `apiVersion: workload.serving.volcano.sh/v1alpha1\nkind: ModelServing\nmetadata: {name: capped}\nspec:\n  template:\n    roles:\n      - name: a\n        workerReplicas: 0\n        entryTemplate:\n          spec:\n            containers:\n${containers}\n`,
  );
  const r = run([file]);
  const errors = r.lines.filter((l) => l.includes(': error: '));
  assert.equal(errors.length, 101);
  assert.match(errors.at(-1)!, /stopped after 100 errors/);
});

test('hostile YAML: nesting, alias bombs and binary junk get clear messages', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['deep.yaml', `a: ${'['.repeat(5000)}${']'.repeat(5000)}`, /nested too deeply|nested deeper/],
    ['deep.json', `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`, /nested too deeply|nested deeper/],
    ['deep2.yaml', `${'{"a":'.repeat(150)}1${'}'.repeat(150)}`, /nested deeper than 100 levels/],
    [
      'bomb.yaml',
      [
        'a: &a [x,x,x,x,x,x,x,x,x]',
        'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
        'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
        'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      ].join('\n'),
      /resource exhaustion/,
    ],
    ['junk.yaml', '\u0000\u0001\u0002\u00ff', /must be an object with apiVersion and kind/],
    ['list.json', '[1, 2]', /must be an object with apiVersion and kind, got an array of 2/],
    [
      'tabs.yaml',
      'apiVersion: v1\nkind: Pod\nmetadata:\n\tname: x\n',
      /tabs.yaml:4: document 1: error: YAML syntax error at line 4: Tabs/,
    ],
  ];
  for (const [name, content, re] of cases) {
    const file = join(tmp, name);
    writeFileSync(file, content);
    const r = run([file]);
    assert.equal(r.status, 1, name);
    assert.match(r.lines.join('\n'), re, name);
  }
});

test('unquoted yes/no/on/off get a warning: kubectl (YAML 1.1) reads them as booleans', () => {
  const file = join(tmp, 'yes.yaml');
  writeFileSync(
    file,
    `${ROUTE}  rateLimit: {unit: minute, inputTokensPerUnit: 10}\nextra:\n  a: yes\n  b: "no"\n  c: [on, Off]\n`,
  );
  const r = run([file]);
  assert.equal(r.status, 0);
  const w = r.lines.filter((l) => l.includes(': warning: '));
  assert.deepEqual(
    w.map((l) => l.slice(l.indexOf('warning: '))),
    [
      'warning: extra.a: unquoted yes is the boolean true for kubectl (YAML 1.1) but a string here; write "yes" or true/false',
      'warning: extra.c[0]: unquoted on is the boolean true for kubectl (YAML 1.1) but a string here; write "on" or true/false',
      'warning: extra.c[1]: unquoted Off is the boolean false for kubectl (YAML 1.1) but a string here; write "Off" or true/false',
      'warning: extra: unknown field "extra"',
    ],
  );
  assert.match(w[0], /yes\.yaml:9: /);
});

test('missing paths and empty directories are errors', () => {
  assert.match(run([join(tmp, 'nope.yaml')]).lines.join('\n'), /no such file or directory/);
  assert.equal(run([join(tmp, 'nope.yaml')]).status, 1);
  const empty = mkdtempSync(join(tmp, 'empty-'));
  assert.equal(run([empty]).status, 1);
  assert.equal(run([]).status, 1);
});

test('core kinds and kind: List are accepted; their envelope is still checked', () => {
  const file = join(tmp, 'core.yaml');
  writeFileSync(
    file,
    `apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Service\n  metadata: {}\n`,
  );
  const r = run([file]);
  assert.equal(r.status, 1);
  assert.match(r.lines.join('\n'), /core\.yaml:9: document 1 \(Service\): error: metadata\.name: is required/);
});

test('the kthena binary: examples/ pass (with the kinds other parts register), errors exit 1 without a stack trace', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
  const ok = cli('validate', '-f', 'examples');
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^OK: /m);
  const bad = cli('validate', '-f', 'test/fixtures/invalid/wrong-types.yaml', '--strict');
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /spec\.replicas: must not be negative/);
  assert.doesNotMatch(bad.stdout + bad.stderr, /^\s+at /m);
  // `kthena crds` prints what renderCrdsYaml() renders (tested in src/api); one spawn less keeps this suite fast.
  const docs = parseAllDocuments(renderCrdsYaml()).map((d) => d.toJS());
  assert.equal(docs.length, 6);
  for (const d of docs) assert.equal(d.kind, 'CustomResourceDefinition');
  assert.equal(
    parse(readFileSync(join(ROOT, 'deploy/crds/workload.serving.volcano.sh_modelservings.yaml'), 'utf8')).kind,
    'CustomResourceDefinition',
  );
});

test('kinds Kthena does not own are skipped with a note; unknown kinds in Kthena groups still fail', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'kv-'));
  try {
    const f = join(dir, 'mixed.yaml');
    writeFileSync(
      f,
      [
        'apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: s}',
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}',
        'apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: m}',
        'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: h}',
      ].join('\n---\n'),
    );
    const lines: string[] = [];
    assert.equal(
      runValidate([f], {}, (l) => lines.push(l)),
      0,
      lines.join('\n'),
    );
    assert.equal(lines.filter((l) => l.includes('note: not a Kthena kind')).length, 4);
    assert.match(lines.at(-1)!, /4 of other kinds skipped/);
    const g = join(dir, 'ours.yaml');
    writeFileSync(g, 'apiVersion: workload.serving.volcano.sh/v1alpha1\nkind: ModelServe\nmetadata: {name: x}\n');
    const bad: string[] = [];
    assert.equal(
      runValidate([g], {}, (l) => bad.push(l)),
      1,
    );
    assert.match(bad.join('\n'), /unknown kind "ModelServe"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a JSON file that is no Kubernetes object is skipped in a directory (dashboards in deploy/), an error when named', () => {
  const dir = join(tmp, 'with-dashboard');
  mkdirSync(dir);
  writeFileSync(join(dir, 'route.yaml'), ROUTE);
  writeFileSync(join(dir, 'dashboard.json'), JSON.stringify({ title: 'd', panels: [] }));
  const walked = run([dir]);
  assert.equal(walked.status, 0, walked.lines.join('\n'));
  assert.ok(walked.lines.some((l) => /dashboard\.json:1: note: not a Kubernetes manifest/.test(l)));
  const named = run([join(dir, 'dashboard.json')]);
  assert.equal(named.status, 1);
  assert.ok(named.lines.some((l) => /kind: is required/.test(l)));
});
