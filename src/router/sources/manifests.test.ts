import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadManifests } from './manifests.js';

const NET = 'apiVersion: networking.serving.volcano.sh/v1alpha1';

test('loads the four kinds, defaulting namespace and endpoint readiness', () => {
  const r = loadManifests([
    {
      file: 'a.yaml',
      text: `${NET}
kind: ModelRoute
metadata: {name: r}
spec: {modelName: m, rules: [{targetModels: [{modelServerName: s}]}]}
---
${NET}
kind: ModelServer
metadata: {name: s, namespace: ns1}
spec: {inferenceEngine: vLLM, workloadSelector: {matchLabels: {app: a}}, workloadPort: {port: 8000}}
---
apiVersion: router.kthena.io/v1alpha1
kind: EngineEndpoint
metadata: {name: e, labels: {app: a}}
spec: {address: 127.0.0.1, port: 9000}
---
`,
    },
  ]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.snapshot.routes[0].metadata.namespace, 'default');
  assert.equal(r.snapshot.servers[0].metadata.namespace, 'ns1');
  assert.deepEqual(r.snapshot.endpoints[0], {
    namespace: 'default',
    name: 'e',
    address: '127.0.0.1',
    port: 9000,
    labels: { app: 'a' },
    ready: true,
  });
});

test('invalid manifests are reported with file, document, object and field path', () => {
  const r = loadManifests([
    {
      file: 'bad.yaml',
      text: `${NET}
kind: ModelRoute
metadata: {name: r}
spec:
  rules:
  - modelMatch: {headers: {x: {exact: a, prefix: b}}, uri: {regex: "("}}
    targetModels: [{modelServerName: s, weight: 101}, {}]
---
${NET}
kind: ModelServer
metadata: {name: s}
spec: {inferenceEngine: TGI, workloadSelector: {matchLabels: {}}, workloadPort: {port: 0}, trafficPolicy: {timeout: soon, retry: {attempts: -1}}}
---
kind: Nope
apiVersion: v1
metadata: {name: n}
---
{ this is: [not yaml
`,
    },
  ]);
  const text = r.errors.join('\n');
  for (const want of [
    'bad.yaml#0 ModelRoute default/r: spec: modelName and loraAdapters cannot both be empty',
    'spec.rules[0].modelMatch.headers.x: exactly one of exact, prefix, regex',
    'spec.rules[0].modelMatch.uri.regex: does not compile',
    'spec.rules[0].targetModels[0].weight: must be an integer from 0 to 100',
    'spec.rules[0].targetModels[1]: exactly one of modelServerName, externalModelProviderName',
    'bad.yaml#1 ModelServer default/s: spec.inferenceEngine: must be vLLM or SGLang',
    'spec.workloadSelector.matchLabels: at least one label',
    'spec.workloadPort.port: required',
    'spec.trafficPolicy.timeout: invalid duration',
    'spec.trafficPolicy.retry.attempts',
    'bad.yaml#2 Nope default/n: kind: unsupported kind',
    'bad.yaml#3: YAML:',
  ]) {
    assert.ok(text.includes(want), `missing "${want}" in:\n${text}`);
  }
});

test('duplicates and hostile shapes are errors, not crashes', () => {
  const one = `${NET}\nkind: ModelServer\nmetadata: {name: s}\nspec: {inferenceEngine: vLLM, workloadSelector: {matchLabels: {a: b}}, workloadPort: {port: 1}}\n`;
  const r = loadManifests([
    { file: 'x.yaml', text: `${one}---\n${one}` },
    {
      file: 'y.yaml',
      text:
        '[1, 2]\n---\n"str"\n---\n' +
        `${NET}\nkind: ModelRoute\nmetadata: {name: q}\nspec: {modelName: m, rules: "no"}\n`,
    },
  ]);
  const text = r.errors.join('\n');
  assert.match(text, /defined twice/);
  assert.match(text, /y\.yaml#0: a manifest must be a mapping/);
  assert.match(text, /spec\.rules: required/);
});

test('the demo and shape examples load without errors (EngineEndpoint sample included)', async () => {
  const root = join(import.meta.dirname, '../../../examples/router');
  for (const dir of ['demo', 'shapes']) {
    const files = (await readdir(join(root, dir))).filter((f) => /\.ya?ml(\.example|\.local)?$/.test(f));
    const sources = await Promise.all(
      files.map(async (f) => ({ file: f, text: await readFile(join(root, dir, f), 'utf8') })),
    );
    const r = loadManifests(sources);
    assert.deepEqual(r.errors, [], dir);
    if (dir === 'demo') assert.equal(r.snapshot.endpoints.length, 3);
  }
});
