// `kthena get`, `kthena describe` and `kthena create manifest` against the local API server: CRDs applied with real
// kubectl, objects (ModelBoosters with hand-written status, since no controller runs here) created by the test, and
// the CLI run as a child process exactly as a user runs it.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { runDescribe } from '../../src/cli/describe.js';
import { type GetOptions, runGet } from '../../src/cli/get.js';
import { type ApiServer, startApiServer } from '../../src/cluster/apiserver/index.js';
import { EVENTS, KubeClient, MODEL_BOOSTERS, MODEL_SERVINGS } from '../../src/kube/index.js';
import { eventually, kubectl, runCommand } from '../helpers/run.js';

const dir = mkdtempSync(join(tmpdir(), 'kthena-cli-objects-'));
const kubeconfig = join(dir, 'kubeconfig');
let api: ApiServer;
let client: KubeClient;

const kthena = (args: string[], env: Record<string, string> = {}) =>
  runCommand('env', [
    ...Object.entries({ KUBECONFIG: kubeconfig, ...env }).map(([k, v]) => `${k}=${v}`),
    process.execPath,
    '--import',
    'tsx',
    'src/cli/main.ts',
    ...args,
  ]);

// In process for the output checks (a child process costs seconds of start-up on a loaded machine); as a child
// process for exit statuses, stderr and the acceptance script's own line.
const get = (resource: string, name?: string, o: Partial<GetOptions> = {}) =>
  runGet(resource, name, { kubeconfig, output: 'table', ...o });
const describe = (resource: string, name: string) => runDescribe(resource, name, { kubeconfig });

const booster = (name: string, ns = 'default') => `
apiVersion: workload.serving.volcano.sh/v1alpha1
kind: ModelBooster
metadata: {name: ${name}, namespace: ${ns}}
spec:
  backend:
    name: backend1
    type: vLLM
    modelURI: hf://Qwen/Qwen2.5-0.5B-Instruct
    replicas: 1
    workers: [{type: server, image: vllm/vllm-openai:latest, replicas: 1, pods: 1, config: {served-model-name: q}}]
`;

const cond = (type: string, status: string, reason: string, message = '') => ({
  type,
  status,
  reason,
  message,
  observedGeneration: 1,
  lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
});

async function setStatus(ref: typeof MODEL_BOOSTERS, name: string, status: unknown, ns = 'default') {
  await client.patch(ref, name, ns, { status }, 'merge', { subresource: 'status' });
}

before(async () => {
  api = await startApiServer({ port: 0, kubeconfigPath: kubeconfig });
  client = new KubeClient({ server: api.url });
  const crds = await kubectl(['--kubeconfig', kubeconfig, 'apply', '-f', 'deploy/crds/']);
  assert.equal(crds.status, 0, crds.stderr);
  await eventually(
    'ModelBooster CRD served',
    async () => (await client.list(MODEL_BOOSTERS, { namespace: 'default' })) && true,
  );
  await kubectl(['--kubeconfig', kubeconfig, 'create', 'namespace', 'team-b']);
  const manifests = [
    booster('demo'),
    booster('failing'),
    booster('fresh'),
    booster('other', 'team-b'),
    `apiVersion: workload.serving.volcano.sh/v1alpha1
kind: ModelServing
metadata: {name: demo-backend1, namespace: default}
spec:
  replicas: 2
  template:
    roles: [{name: leader, replicas: 1, workerReplicas: 0, entryTemplate: {spec: {containers: [{name: e, image: nginx}]}}}]
`,
    `apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ModelRoute
metadata: {name: demo, namespace: default}
spec:
  modelName: demo
  rules: [{name: default, targetModels: [{modelServerName: demo-backend1}]}, {name: b, targetModels: [{modelServerName: x}]}]
`,
    `apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ModelServer
metadata: {name: demo-backend1, namespace: default}
spec:
  model: q
  inferenceEngine: vLLM
  workloadSelector: {matchLabels: {app: demo}}
  workloadPort: {port: 8000}
`,
    `apiVersion: workload.serving.volcano.sh/v1alpha1
kind: AutoscalingPolicy
metadata: {name: scale-demo, namespace: default}
spec:
  metrics: [{name: waiting, targetValue: "10"}]
  homogeneousTarget:
    minReplicas: 1
    maxReplicas: 4
    target: {targetRef: {kind: ModelServing, name: demo-backend1}}
`,
  ];
  const applied = await kubectl(['--kubeconfig', kubeconfig, 'apply', '-f', '-'], manifests.join('\n---\n'));
  assert.equal(applied.status, 0, applied.stderr);
  // Status as the ModelBooster controller writes it (§3.6): Failed wins over Active, Active over Initialized.
  await setStatus(MODEL_BOOSTERS, 'demo', {
    observedGeneration: 1,
    conditions: [
      cond('Initialized', 'True', 'ModelCreating'),
      cond('Active', 'True', 'ModelAvailable', 'ModelBooster is ready'),
    ],
  });
  await setStatus(MODEL_BOOSTERS, 'failing', {
    conditions: [
      cond('Initialized', 'True', 'ModelCreating'),
      cond('Active', 'True', 'ModelAvailable'),
      cond('Failed', 'True', 'ModelAbnormal', 'modelservings "failing-backend1" already exists'),
    ],
  });
  await setStatus(MODEL_BOOSTERS, 'fresh', {
    conditions: [cond('Initialized', 'True', 'ModelCreating'), cond('Active', 'False', 'ModelProcessing')],
  });
  await setStatus(MODEL_SERVINGS, 'demo-backend1', {
    replicas: 2,
    availableReplicas: 1,
    conditions: [cond('Progressing', 'True', 'GroupProgressing')],
  });
  // The booster owns its ModelServing and has an event, as the controller would leave them.
  const demo = await client.get<{ metadata: { uid: string } }>(MODEL_BOOSTERS, 'demo', 'default');
  await client.patch(
    MODEL_SERVINGS,
    'demo-backend1',
    'default',
    {
      metadata: {
        ownerReferences: [
          {
            apiVersion: 'workload.serving.volcano.sh/v1alpha1',
            kind: 'ModelBooster',
            name: 'demo',
            uid: demo.metadata.uid,
            controller: true,
          },
        ],
      },
    },
    'merge',
  );
  await client.create(
    EVENTS,
    {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'demo.1', namespace: 'default' },
      involvedObject: { kind: 'ModelBooster', name: 'demo', namespace: 'default', uid: demo.metadata.uid },
      type: 'Normal',
      reason: 'Reconciled',
      message: 'children are up to date',
      source: { component: 'modelbooster-controller' },
      count: 1,
      lastTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    } as never,
    { namespace: 'default' },
  );
});

after(async () => {
  await client?.close();
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('get model-boosters: upstream columns and status precedence (Failed > Active > Initialized > Unknown)', async () => {
  const r = await kthena(['get', 'model-boosters']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout.split('\n')[0], /^NAME\s+STATUS\s+AGE$/);
  assert.match(r.stdout, /^demo\b.*Active/m, 'the line the acceptance script greps for');
  assert.match(r.stdout, /^failing\s+Failed\s+\d+s$/m);
  assert.match(r.stdout, /^fresh\s+Initialized\s/m);
  assert.doesNotMatch(r.stdout, /other/, 'other namespaces stay out without -A');
  const all = (await get('model-booster', undefined, { allNamespaces: true })).stdout;
  assert.match(all.split('\n')[0], /^NAMESPACE\s+NAME\s+STATUS\s+AGE$/);
  assert.match(all, /^team-b\s+other\s+Unknown\s/m);
  const filtered = (await get('model-boosters', 'fai')).stdout;
  assert.deepEqual(
    filtered
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s+/)[0]),
    ['failing'],
  );
  assert.match((await get('modelboosters', undefined, { namespace: 'team-b' })).stdout, /^other\s/m);
});

test('get for every kind and alias prints upstream columns; -o yaml and -o json print a List', async () => {
  const ms = (await get('ms')).stdout;
  assert.match(ms, /^NAME\s+READY\s+STATUS\s+AGE\n/);
  assert.match(ms, /^demo-backend1\s+1\/2\s+Progressing\s/m);
  const routes = (await get('mroute')).stdout;
  assert.match(routes, /^NAME\s+MODEL\s+RULES\s+AGE\n/);
  assert.match(routes, /^demo\s+demo\s+2\s/m);
  const servers = (await get('model-server')).stdout;
  assert.match(servers, /^NAME\s+ENGINE\s+PORT\s+AGE\n/);
  assert.match(servers, /^demo-backend1\s+vLLM\s+8000\s/m);
  assert.match((await get('asp')).stdout, /^NAME\s+AGE\nscale-demo\s+\d+s\n$/);
  const yaml = parse((await get('model-boosters', 'demo', { output: 'yaml' })).stdout);
  assert.equal(yaml.kind, 'List');
  assert.deepEqual(
    yaml.items.map((i: { metadata: { name: string } }) => i.metadata.name),
    ['demo'],
  );
  assert.equal(yaml.items[0].kind, 'ModelBooster');
  const json = JSON.parse((await get('autoscaling-policies', undefined, { output: 'json' })).stdout);
  assert.equal(json.items[0].spec.homogeneousTarget.maxReplicas, 4);
  assert.deepEqual(await get('mroute', undefined, { namespace: 'team-b' }), {
    stdout: '',
    stderr: 'No resources found in team-b namespace.\n',
  });
});

test('describe shows status, conditions, owned objects and events', async () => {
  const r = (await describe('model-booster', 'demo')).stdout;
  assert.match(r, /^Name:\s+demo$/m);
  assert.match(r, /^Kind:\s+ModelBooster \(workload\.serving\.volcano\.sh\/v1alpha1\)$/m);
  assert.match(r, /^Status:\s+Active$/m);
  assert.match(r, /modelURI: hf:\/\/Qwen\/Qwen2\.5-0\.5B-Instruct/);
  assert.match(r, /^\s+Active\s+True\s+ModelAvailable\s+ModelBooster is ready\s/m);
  assert.match(r, /Owned Objects:\n\s+KIND\s+NAME\s+AGE\n\s+ModelServing\s+demo-backend1\s/);
  assert.match(r, /Events:\n.*\n\s+Normal\s+Reconciled\s+\S+\s+modelbooster-controller\s+children are up to date/);
  const ms = (await describe('ms', 'demo-backend1')).stdout;
  assert.match(ms, /^Status:\s+Progressing$/m);
  assert.match(ms, /^Controlled By:\s+ModelBooster\/demo$/m);
  assert.match(ms, /Events:\n\s+<none>/);
  const missing = await kthena(['describe', 'mroute', 'nope']);
  assert.equal(missing.status, 1);
  assert.equal(missing.stdout, '');
  assert.match(missing.stderr, /^kthena: modelroutes\.networking\.serving\.volcano\.sh "nope" not found\n$/);
});

test('create manifest --yes creates the rendered booster; it then lists', async () => {
  const r = await kthena([
    'create',
    'manifest',
    '-t',
    'Qwen3-8B',
    '--name',
    'qwen-a',
    '-n',
    'team-b',
    '--set',
    'modelName=qa',
    '--yes',
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^================\n[\s\S]*\n================\n/);
  assert.match(r.stdout, /^modelbooster\.workload\.serving\.volcano\.sh\/qwen-a created$/m);
  const got = await client.get<{ spec: { name: string } }>(MODEL_BOOSTERS, 'qwen-a', 'team-b');
  assert.equal(got.spec.name, 'qa');
  const again = await kthena(['create', 'manifest', '-t', 'Qwen3-8B', '--name', 'qwen-a', '-n', 'team-b', '--yes']);
  assert.equal(again.status, 1, 'create only, never overwrite');
  assert.match(again.stderr, /already exists/);
  const noTty = await kthena(['create', 'manifest', '-t', 'Qwen3-8B', '--name', 'qwen-b']);
  assert.equal(noTty.status, 1);
  assert.match(noTty.stderr, /refusing to create without confirmation: standard input is not a terminal; pass --yes/);
  await assert.rejects(client.get(MODEL_BOOSTERS, 'qwen-b', 'default'), /not found/);
});

test('create manifest on a terminal asks [y/N]: no creates nothing, yes creates', {
  skip: !existsSync('/usr/bin/script') && 'no script(1) for a pseudo-terminal',
}, async () => {
  // script(1) gives the command a pseudo-terminal, so stdin is a TTY and the answer comes from the pipe.
  const onTty = (name: string, answer: string) =>
    runCommand(
      'script',
      [
        '-qec',
        `KUBECONFIG=${kubeconfig} ${process.execPath} --import tsx src/cli/main.ts create manifest -t Qwen3-8B --name ${name}`,
        '/dev/null',
      ],
      answer,
    );
  const no = await onTty('tty-no', 'n\n');
  assert.match(no.stdout, /Create these resources\? \[y\/N\][\s\S]*cancelled: nothing was created/);
  await assert.rejects(client.get(MODEL_BOOSTERS, 'tty-no', 'default'), /not found/);
  const yes = await onTty('tty-yes', 'y\n');
  assert.match(yes.stdout, /modelbooster\.workload\.serving\.volcano\.sh\/tty-yes created/);
  assert.equal(
    (await client.get<{ metadata: { name: string } }>(MODEL_BOOSTERS, 'tty-yes', 'default')).metadata.name,
    'tty-yes',
  );
});

test('errors name the flag or the kind and exit non-zero; nothing goes to stdout', async () => {
  await assert.rejects(
    get('widgets'),
    /unknown resource type "widgets"; known: templates, template, model-boosters, model-booster, model-servings, ms, /,
  );
  await assert.rejects(
    get('ms', undefined, { kubeconfig: join(dir, 'nope') }),
    /kubeconfig .*nope does not exist \(from --kubeconfig\)/,
  );
  writeFileSync(
    join(dir, 'dead'),
    'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {}}]\ncurrent-context: c\n',
  );
  await assert.rejects(
    get('ms', undefined, { kubeconfig: join(dir, 'dead') }),
    /cannot reach the API server at http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/,
  );
  const bare = await startApiServer({ port: 0, kubeconfigPath: join(dir, 'bare') });
  try {
    await assert.rejects(
      get('asp', undefined, { kubeconfig: join(dir, 'bare') }),
      /the API server does not serve autoscalingpolicies\.workload\.serving\.volcano\.sh: install the Kthena CRDs/,
    );
  } finally {
    await bare.close();
  }
  const cases: [string[], RegExp][] = [
    [['get', 'model-boosters', '-o', 'wide'], /--output must be one of table, yaml, json, got "wide"/],
    [['describe', 'model-booster'], /missing required argument 'name'/],
  ];
  for (const [args, re] of cases) {
    const r = await kthena(args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  }
});
