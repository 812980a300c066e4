import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'yaml';
import { parseManifests, validate } from '../api/index.js';
import { buildValues, renderManifest } from './create.js';
import { describeTemplate } from './describe.js';
import { getTemplate, getTemplates } from './get.js';
import { findTemplate, listTemplates, valueKeys } from './templates.js';

const tmp = mkdtempSync(join(tmpdir(), 'kthena-create-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};
const render = (template: string, o: Parameters<typeof buildValues>[0] = {}) =>
  parse(renderManifest(findTemplate(template), buildValues(o)).yaml);

const UPSTREAM_NAMES = [
  'Qwen/Qwen3-8B',
  'Qwen/Qwen3-8B-NPU',
  'Qwen/Qwen3-32B',
  'Qwen/Qwen3-32B-NPU',
  'Qwen/Qwen3-Coder-30B-A3B-Instruct',
  'Qwen/Qwen3-Coder-30B-A3B-Instruct-NPU',
  'Qwen/Qwen3-Coder-30B-A3B-Instruct-PD-Disaggregated-LMCache',
  'Qwen/Qwen3-Coder-30B-A3B-Instruct-PD-Disaggregated-Mooncake',
  'Qwen/Qwen3-Coder-30B-A3B-Instruct-PD-Disaggregated-NixlConnector',
  'deepseek-ai/DeepSeek-R1-Distill-Qwen-7B',
  'deepseek-ai/DeepSeek-R1-Distill-Qwen-7B-NPU',
  'deepseek-ai/DeepSeek-R1-Distill-Qwen-32B',
  'deepseek-ai/DeepSeek-R1-Distill-Qwen-32B-NPU',
];

test("the catalogue holds upstream's template names, each with a description", () => {
  const all = listTemplates();
  assert.deepEqual(all.map((t) => t.name).sort(), [...UPSTREAM_NAMES].sort());
  for (const t of all) assert.notEqual(t.description, 'No description available', t.name);
  assert.match(getTemplates('table').stdout, /^NAME\s+DESCRIPTION\n/);
  assert.deepEqual(JSON.parse(getTemplates('json').stdout).length, UPSTREAM_NAMES.length);
  assert.match(getTemplate('Qwen3-8B', 'table').stdout, /^# Description: /);
  assert.ok(JSON.parse(getTemplate('Qwen3-8B', 'json').stdout).values.includes('gpuLimit'));
});

test('every template renders with its defaults into a ModelBooster that passes validation', () => {
  for (const name of UPSTREAM_NAMES) {
    const { yaml, docs } = renderManifest(findTemplate(name), buildValues({}));
    assert.equal(docs.length, 1, name);
    const doc = docs[0].obj as { kind: string; metadata: { namespace?: string } };
    assert.equal(doc.kind, 'ModelBooster', name);
    assert.deepEqual(validate(parseManifests(yaml, name).docs[0].obj).errors, [], name);
  }
});

test("upstream's value keys are read by the single-engine templates", () => {
  const keys = valueKeys(JSON.parse(getTemplate('deepseek-ai/DeepSeek-R1-Distill-Qwen-7B', 'json').stdout).template);
  for (const k of [
    'name',
    'namespace',
    'modelName',
    'owner',
    'backendName',
    'backendType',
    'modelURI',
    'cacheURI',
    'workerType',
    'workerImage',
    'workerReplicas',
    'workerPods',
    'tensorParallelSize',
    'gpuLimit',
  ])
    assert.ok(keys.includes(k), k);
});

test('values merge file, then --set, then --name and --namespace; numbers and strings land typed', () => {
  const values = file('v.yaml', 'workerReplicas: 3\nmodelURI: s3://bucket/q\nname: from-file\n');
  const b = render('Qwen/Qwen3-8B', {
    valuesFile: values,
    set: ['workerReplicas=4,gpuLimit=2', 'owner=team:a "quoted"'],
    name: 'flagged',
    namespace: 'prod',
  });
  assert.equal(b.metadata.name, 'flagged');
  assert.equal(b.metadata.namespace, 'prod');
  assert.equal(b.spec.backend.modelURI, 's3://bucket/q');
  assert.equal(b.spec.backend.workers[0].replicas, 4);
  assert.equal(b.spec.backend.workers[0].resources.limits['nvidia.com/gpu'], 2);
  assert.equal(b.spec.owner, 'team:a "quoted"', 'a string value stays one YAML scalar, whatever it holds');
  const pd = render('Qwen3-Coder-30B-A3B-Instruct-PD-Disaggregated-NixlConnector', { set: ['prefillReplicas=2'] });
  assert.deepEqual(
    pd.spec.backend.workers.map((w: { type: string; replicas: number }) => [w.type, w.replicas]),
    [
      ['prefill', 2],
      ['decode', 1],
    ],
  );
});

test('bad values name the flag, the file or the key', () => {
  const cases: [Parameters<typeof buildValues>[0], RegExp][] = [
    [{ set: ['novalue'] }, /^--set: "novalue" is not key=value$/],
    [{ set: ['=x'] }, /^--set: "=x" is not key=value$/],
    [
      { set: ['gpuLimt=2'] },
      /^--set gpuLimt: template Qwen\/Qwen3-8B has no value "gpuLimt"; its values are: .*gpuLimit/,
    ],
    [{ set: ['workerReplicas=two'] }, /^--set workerReplicas: expected a whole number, got "two"$/],
    [{ set: ['workerReplicas=1\nevil: x'] }, /^--set workerReplicas: expected a whole number/],
    [{ valuesFile: join(tmp, 'missing.yaml') }, /^--values-file .*missing\.yaml: ENOENT/],
    [
      { valuesFile: file('list.yaml', '- a\n- b\n') },
      /^--values-file .*list\.yaml: must be a map of value keys to values, got a list$/,
    ],
    [{ valuesFile: file('bad.yaml', 'a: [\n') }, /^--values-file .*bad\.yaml: /],
    [
      { valuesFile: file('nested.yaml', 'gpuLimit: {a: 1}\n') },
      /^--values-file .*nested\.yaml: gpuLimit: must be a string, number or boolean/,
    ],
    [
      { set: ['backendType=SGLang-nope'] },
      /rendered an invalid manifest with these values:\n {2}spec\.backend\.type: /,
    ],
    [{ set: ['name=Not_A_Name'] }, /rendered an invalid manifest[\s\S]*metadata\.name/],
  ];
  for (const [o, re] of cases)
    assert.throws(
      () => render('Qwen/Qwen3-8B', o),
      (e: Error) => re.test(e.message),
      JSON.stringify(o),
    );
});

test('an unknown template lists the known ones; a bare model name is found across vendors', () => {
  assert.throws(
    () => findTemplate('Qwen/Nope'),
    /template "Qwen\/Nope" does not exist; known templates:\n {2}deepseek-ai\//,
  );
  assert.equal(findTemplate('DeepSeek-R1-Distill-Qwen-7B').name, 'deepseek-ai/DeepSeek-R1-Distill-Qwen-7B');
});

test('--dry-run prints a bare manifest that `kthena validate -f` accepts (the acceptance check)', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
  const r = cli('create', 'manifest', '-t', 'deepseek-ai/DeepSeek-R1-Distill-Qwen-7B', '--dry-run');
  assert.equal(r.status, 0, r.stderr);
  const out = file('dry.yaml', r.stdout);
  const v = cli('validate', '-f', out);
  assert.equal(v.status, 0, v.stdout);
  const bad = cli('create', 'manifest', '-t', 'nope', '--dry-run');
  assert.equal(bad.status, 1);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /^kthena: template "nope" does not exist; known templates:/);
});

test('describe template shows the description, the value keys and the manifest with defaults', () => {
  const text = describeTemplate('Qwen/Qwen3-Coder-30B-A3B-Instruct-PD-Disaggregated-Mooncake');
  assert.match(text, /^Name:\s+Qwen\/Qwen3-Coder-30B-A3B-Instruct-PD-Disaggregated-Mooncake$/m);
  assert.match(text, /^Description:\s+.*Mooncake/m);
  assert.match(text, /^Values:\s+.*decodeReplicas.*prefillReplicas/m);
  assert.match(text, /kv-transfer-config: '\{"kv_connector":"MooncakeConnectorV1","kv_role":"kv_consumer"\}'/);
  assert.throws(() => describeTemplate('nope'), /template "nope" does not exist/);
});
