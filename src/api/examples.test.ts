// Every manifest in examples/ is valid; deliberately broken variants of them fail at the expected path.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectFiles } from '../cli/validate.js';
import { KINDS, lookupKind, parseManifests, parsePath, validate } from './index.js';

process.env.KTHENA_STRICT_RULES = '1'; // a rule that throws is a bug, not something to hide in tests

const ROOT = join(import.meta.dirname, '..', '..');
const EXAMPLES = join(ROOT, 'examples');

function load(file: string): unknown[] {
  const parsed = parseManifests(readFileSync(join(EXAMPLES, file), 'utf8'), file);
  assert.deepEqual(parsed.errors, []);
  return parsed.docs.map((d) => d.obj);
}

test('every example validates with no errors and no warnings, even under --strict', () => {
  const { files } = collectFiles([EXAMPLES]);
  assert.ok(files.length >= 15, `only ${files.length} example files`);
  const kinds = new Set<string>();
  for (const file of files) {
    const parsed = parseManifests(readFileSync(file, 'utf8'), file);
    assert.deepEqual(parsed.errors, [], file);
    for (const doc of parsed.docs) {
      const o = doc.obj as { apiVersion?: unknown; kind?: unknown };
      // Other parts of the program keep their own kinds here too (e.g. the router's engine lists); the CLI
      // test checks the whole directory with their registrations loaded.
      if (!lookupKind(o.apiVersion, o.kind)) continue;
      assert.deepEqual(doc.warnings ?? [], [], `${file} document ${doc.index + 1}: YAML warnings`);
      const r = validate(doc.obj, { strict: true });
      assert.deepEqual(r, { errors: [], warnings: [] }, `${file} document ${doc.index + 1}`);
      kinds.add((doc.obj as { kind: string }).kind);
    }
  }
  for (const kind of Object.keys(KINDS)) assert.ok(kinds.has(kind), `no example of ${kind}`);
});

const DELETE = Symbol('delete');
type Edit = Record<string, unknown>;

interface Variant {
  name: string;
  file: string;
  doc?: number;
  edits: Edit;
  /** [path, message pattern]; every one must be among the errors. */
  expect: Array<[string, RegExp]>;
  strict?: boolean;
}

function applyEdits(obj: unknown, edits: Edit): unknown {
  const copy = structuredClone(obj);
  for (const [path, value] of Object.entries(edits)) {
    const segs = parsePath(path);
    let cur: any = copy;
    for (const s of segs.slice(0, -1)) {
      if (cur[s] === undefined) cur[s] = {};
      cur = cur[s];
    }
    const last = segs[segs.length - 1];
    if (value === DELETE) delete cur[last];
    else cur[last] = value;
  }
  return copy;
}

const many = (n: number, item: unknown) => Array.from({ length: n }, () => structuredClone(item));
const target = { modelServerName: 'x' };

const VARIANTS: Variant[] = [
  // ---------------------------------------------------------------- generic envelope
  {
    name: 'missing apiVersion',
    file: 'router/simple-route.yaml',
    edits: { apiVersion: DELETE },
    expect: [['apiVersion', /required/]],
  },
  { name: 'missing kind', file: 'router/simple-route.yaml', edits: { kind: DELETE }, expect: [['kind', /required/]] },
  {
    name: 'unknown kind',
    file: 'router/simple-route.yaml',
    edits: { kind: 'ModelRouter' },
    expect: [['kind', /unknown kind "ModelRouter"/]],
  },
  {
    name: 'wrong version',
    file: 'router/simple-route.yaml',
    doc: 1,
    edits: { apiVersion: 'networking.serving.volcano.sh/v1beta1' },
    expect: [['apiVersion', /served as apiVersion "networking.serving.volcano.sh\/v1alpha1"/]],
  },
  {
    name: 'no metadata.name',
    file: 'router/simple-route.yaml',
    doc: 1,
    edits: { 'metadata.name': DELETE },
    expect: [['metadata.name', /required/]],
  },
  {
    name: 'bad metadata.name',
    file: 'router/simple-route.yaml',
    doc: 1,
    edits: { 'metadata.name': 'Qwen_Route' },
    expect: [['metadata.name', /DNS subdomain/]],
  },
  {
    name: 'label value as number',
    file: 'router/simple-route.yaml',
    doc: 1,
    edits: { 'metadata.labels': { version: 1.5 } },
    expect: [['metadata.labels[version]', /must be a string, got number 1.5 \(quote it/]],
  },
  {
    name: 'bad label key',
    file: 'router/simple-route.yaml',
    doc: 1,
    edits: { 'metadata.labels': { 'a/b/c': 'x' } },
    expect: [['metadata.labels[a/b/c]', /at most one "\/"/]],
  },
  {
    name: 'no spec',
    file: 'router/simple-route.yaml',
    doc: 1,
    edits: { spec: DELETE },
    expect: [['spec', /required/]],
  },
  {
    name: 'spec is a list',
    file: 'router/simple-route.yaml',
    doc: 1,
    edits: { spec: [] },
    expect: [['spec', /must be an object/]],
  },
  {
    name: 'removed binding kind',
    file: 'autoscaling/homogeneous.yaml',
    edits: { kind: 'AutoscalingPolicyBinding' },
    expect: [['kind', /homogeneousTarget/]],
  },

  // ---------------------------------------------------------------- ModelRoute
  {
    name: 'negative weight',
    file: 'router/canary-70-30.yaml',
    doc: 2,
    edits: { 'spec.rules[0].targetModels[0].weight': -1 },
    expect: [['spec.rules[0].targetModels[0].weight', /must not be negative/]],
  },
  {
    name: 'weight above 100',
    file: 'router/canary-70-30.yaml',
    doc: 2,
    edits: { 'spec.rules[0].targetModels[1].weight': 101 },
    expect: [['spec.rules[0].targetModels[1].weight', /at most 100/]],
  },
  {
    name: 'weight as string',
    file: 'router/canary-70-30.yaml',
    doc: 2,
    edits: { 'spec.rules[0].targetModels[1].weight': '30' },
    expect: [['spec.rules[0].targetModels[1].weight', /must be an integer, got string "30"/]],
  },
  {
    name: 'weights sum to zero',
    file: 'router/canary-70-30.yaml',
    doc: 2,
    edits: { 'spec.rules[0].targetModels[0].weight': 0, 'spec.rules[0].targetModels[1].weight': 0 },
    expect: [['spec.rules[0].targetModels', /add up to 0/]],
  },
  {
    name: 'server and provider both',
    file: 'router/simple-route.yaml',
    doc: 1,
    edits: { 'spec.rules[0].targetModels[0].externalModelProviderName': 'p' },
    expect: [['spec.rules[0].targetModels[0]', /only one of modelServerName or externalModelProviderName/]],
  },
  {
    name: 'neither server nor provider',
    file: 'router/simple-route.yaml',
    doc: 1,
    edits: { 'spec.rules[0].targetModels[0]': { weight: 10 } },
    expect: [['spec.rules[0].targetModels[0]', /set one of modelServerName or externalModelProviderName/]],
  },
  {
    name: 'no modelName and no loraAdapters',
    file: 'router/simple-route.yaml',
    doc: 1,
    edits: { 'spec.modelName': '' },
    expect: [['spec', /cannot both be empty/]],
  },
  {
    name: 'rules missing',
    file: 'router/simple-route.yaml',
    doc: 1,
    edits: { 'spec.rules': DELETE },
    expect: [['spec.rules', /required/]],
  },
  {
    name: 'empty targetModels',
    file: 'router/simple-route.yaml',
    doc: 1,
    edits: { 'spec.rules[0].targetModels': [] },
    expect: [['spec.rules[0].targetModels', /at least 1 item/]],
  },
  {
    name: '17 targets',
    file: 'router/simple-route.yaml',
    doc: 1,
    edits: { 'spec.rules[0].targetModels': many(17, target) },
    expect: [['spec.rules[0].targetModels', /at most 16 items, has 17/]],
  },
  {
    name: '10,000 rules',
    file: 'router/simple-route.yaml',
    doc: 1,
    edits: { 'spec.rules': many(10000, { targetModels: [target] }) },
    expect: [['spec.rules', /at most 16 items, has 10000/]],
  },
  {
    name: 'regex does not compile',
    file: 'router/header-multi-model.yaml',
    doc: 2,
    edits: { 'spec.rules[1].modelMatch.headers.x-tenant.regex': '(team-a' },
    expect: [['spec.rules[1].modelMatch.headers[x-tenant].regex', /invalid regular expression/]],
  },
  {
    name: 'regex uses lookahead',
    file: 'router/header-multi-model.yaml',
    doc: 2,
    edits: { 'spec.rules[1].modelMatch.headers.x-tenant.regex': '^(?!team-c)' },
    expect: [['spec.rules[1].modelMatch.headers[x-tenant].regex', /RE2/]],
  },
  {
    name: 'exact and prefix together',
    file: 'router/header-multi-model.yaml',
    doc: 2,
    edits: { 'spec.rules[0].modelMatch.headers.user-type.prefix': 'prem' },
    expect: [['spec.rules[0].modelMatch.headers[user-type]', /exactly one of exact, prefix or regex/]],
  },
  {
    name: 'uri regex invalid',
    file: 'router/header-multi-model.yaml',
    doc: 2,
    edits: { 'spec.rules[1].modelMatch.uri': { regex: '[' } },
    expect: [['spec.rules[1].modelMatch.uri.regex', /invalid regular expression/]],
  },
  {
    name: 'invalid header name',
    file: 'router/header-multi-model.yaml',
    doc: 2,
    edits: { 'spec.rules[0].modelMatch.headers': { 'user type': { exact: 'a' } } },
    expect: [['spec.rules[0].modelMatch.headers[user type]', /not a valid HTTP header name/]],
  },
  {
    name: 'rate limit unit',
    file: 'router/rate-limited.yaml',
    edits: { 'spec.rateLimit.unit': 'week' },
    expect: [['spec.rateLimit.unit', /must be one of "second", "minute", "hour", "day", "month"/]],
  },
  {
    name: 'rate limit zero',
    file: 'router/rate-limited.yaml',
    edits: { 'spec.rateLimit.inputTokensPerUnit': 0 },
    expect: [['spec.rateLimit.inputTokensPerUnit', /at least 1/]],
  },
  {
    name: 'redis address without port',
    file: 'router/rate-limited-redis.yaml',
    edits: { 'spec.rateLimit.global.redis.address': 'redis-server' },
    expect: [['spec.rateLimit.global.redis.address', /host:port/]],
  },
  {
    name: 'redis without address',
    file: 'router/rate-limited-redis.yaml',
    edits: { 'spec.rateLimit.global.redis': {} },
    expect: [['spec.rateLimit.global.redis.address', /required/]],
  },
  {
    name: '11 LoRA adapters',
    file: 'router/lora-route.yaml',
    edits: { 'spec.loraAdapters': many(11, 'a') },
    expect: [['spec.loraAdapters', /at most 10/]],
  },
  {
    name: 'empty LoRA adapter',
    file: 'router/lora-route.yaml',
    edits: { 'spec.loraAdapters[1]': '' },
    expect: [['spec.loraAdapters[1]', /must not be empty/]],
  },
  {
    name: 'LoRA to external provider',
    file: 'router/lora-route.yaml',
    edits: { 'spec.rules[0].targetModels[0]': { externalModelProviderName: 'p' } },
    expect: [['spec.rules[0].targetModels[0].externalModelProviderName', /LoRA/]],
  },
  {
    name: 'modelName as number',
    file: 'router/simple-route.yaml',
    doc: 1,
    edits: { 'spec.modelName': 7 },
    expect: [['spec.modelName', /must be a string, got number 7/]],
  },
  {
    name: 'typo in field is an error under --strict',
    file: 'router/simple-route.yaml',
    doc: 1,
    strict: true,
    edits: { 'spec.rateLimt': { unit: 'second' } },
    expect: [['spec.rateLimt', /unknown field "rateLimt" \(did you mean "rateLimit"\?\)/]],
  },
  {
    name: 'parentRef port out of range',
    file: 'router/simple-route.yaml',
    doc: 1,
    edits: { 'spec.parentRefs': [{ name: 'gw', port: 0 }] },
    expect: [['spec.parentRefs[0].port', /at least 1/]],
  },

  // ---------------------------------------------------------------- ModelServer
  {
    name: 'port above 65535',
    file: 'router/simple-route.yaml',
    edits: { 'spec.workloadPort.port': 70000 },
    expect: [['spec.workloadPort.port', /at most 65535/]],
  },
  {
    name: 'port zero',
    file: 'router/simple-route.yaml',
    edits: { 'spec.workloadPort.port': 0 },
    expect: [['spec.workloadPort.port', /at least 1/]],
  },
  {
    name: 'port as string',
    file: 'router/simple-route.yaml',
    edits: { 'spec.workloadPort.port': '8000' },
    expect: [['spec.workloadPort.port', /must be an integer, got string "8000"/]],
  },
  {
    name: 'port missing',
    file: 'router/simple-route.yaml',
    edits: { 'spec.workloadPort': DELETE },
    expect: [['spec.workloadPort', /required/]],
  },
  {
    name: 'engine in wrong case',
    file: 'router/simple-route.yaml',
    edits: { 'spec.inferenceEngine': 'vllm' },
    expect: [['spec.inferenceEngine', /case-sensitive: "vLLM"/]],
  },
  {
    name: 'engine missing',
    file: 'router/simple-route.yaml',
    edits: { 'spec.inferenceEngine': DELETE },
    expect: [['spec.inferenceEngine', /required/]],
  },
  {
    name: 'protocol',
    file: 'router/simple-route.yaml',
    edits: { 'spec.workloadPort.protocol': 'grpc' },
    expect: [['spec.workloadPort.protocol', /must be one of "http", "https"/]],
  },
  {
    name: 'no labels',
    file: 'router/simple-route.yaml',
    edits: { 'spec.workloadSelector.matchLabels': {} },
    expect: [['spec.workloadSelector.matchLabels', /at least one label/]],
  },
  {
    name: 'bad label value',
    file: 'router/simple-route.yaml',
    edits: { 'spec.workloadSelector.matchLabels.app': 'qwen 0.5b' },
    expect: [['spec.workloadSelector.matchLabels[app]', /label value/]],
  },
  {
    name: 'pdGroup without prefill labels',
    file: 'router/pd-modelserver.yaml',
    edits: { 'spec.workloadSelector.pdGroup.prefillLabels': {} },
    expect: [['spec.workloadSelector.pdGroup.prefillLabels', /at least one label/]],
  },
  {
    name: 'pdGroup without decode labels',
    file: 'router/pd-modelserver.yaml',
    edits: { 'spec.workloadSelector.pdGroup.decodeLabels': DELETE },
    expect: [['spec.workloadSelector.pdGroup.decodeLabels', /required/]],
  },
  {
    name: 'pdGroup empty groupKey',
    file: 'router/pd-modelserver.yaml',
    edits: { 'spec.workloadSelector.pdGroup.groupKey': '' },
    expect: [['spec.workloadSelector.pdGroup.groupKey', /must not be empty/]],
  },
  {
    name: 'unknown kv connector',
    file: 'router/pd-modelserver.yaml',
    edits: { 'spec.kvConnector.type': 'rdma' },
    expect: [['spec.kvConnector.type', /must be one of "http", "lmcache", "nixl", "mooncake"/]],
  },
  {
    name: 'timeout not a duration',
    file: 'router/pd-modelserver.yaml',
    edits: { 'spec.trafficPolicy.timeout': '2 minutes' },
    expect: [['spec.trafficPolicy.timeout', /not a duration/]],
  },
  {
    name: 'timeout as number',
    file: 'router/pd-modelserver.yaml',
    edits: { 'spec.trafficPolicy.timeout': 30 },
    expect: [['spec.trafficPolicy.timeout', /must be a string, got number 30/]],
  },
  {
    name: 'model name too long',
    file: 'router/simple-route.yaml',
    edits: { 'spec.model': 'm'.repeat(300) },
    expect: [['spec.model', /at most 256 characters/]],
  },

  // ---------------------------------------------------------------- ExternalModelProvider
  {
    name: 'http baseURL',
    file: 'router/external-provider.yaml',
    doc: 1,
    edits: { 'spec.baseURL': 'http://api.deepseek.com' },
    expect: [['spec.baseURL', /https/]],
  },
  {
    name: 'baseURL with query',
    file: 'router/external-provider.yaml',
    doc: 1,
    edits: { 'spec.baseURL': 'https://api.deepseek.com/v1?key=1' },
    expect: [['spec.baseURL', /query string/]],
  },
  {
    name: 'baseURL with fragment',
    file: 'router/external-provider.yaml',
    doc: 1,
    edits: { 'spec.baseURL': 'https://api.deepseek.com/#x' },
    expect: [['spec.baseURL', /fragment/]],
  },
  {
    name: 'baseURL with credentials',
    file: 'router/external-provider.yaml',
    doc: 1,
    edits: { 'spec.baseURL': 'https://me:secret@api.deepseek.com' },
    expect: [['spec.baseURL', /user:password/]],
  },
  {
    name: 'baseURL missing',
    file: 'router/external-provider.yaml',
    doc: 1,
    edits: { 'spec.baseURL': DELETE },
    expect: [['spec.baseURL', /required/]],
  },
  {
    name: 'Authorization header',
    file: 'router/external-provider.yaml',
    doc: 1,
    edits: { 'spec.headers.Authorization': 'Bearer x' },
    expect: [['spec.headers[Authorization]', /reserved: credentials come from spec.auth.secretRef/]],
  },
  {
    name: 'hop-by-hop header in lower case',
    file: 'router/external-provider.yaml',
    doc: 1,
    edits: { 'spec.headers.transfer-encoding': 'chunked' },
    expect: [['spec.headers[transfer-encoding]', /reserved/]],
  },
  {
    name: 'header value with newline',
    file: 'router/external-provider.yaml',
    doc: 1,
    edits: { 'spec.headers.X-Team': 'a\r\nX-Injected: 1' },
    expect: [['spec.headers[X-Team]', /CR, LF/]],
  },
  {
    name: 'provider type',
    file: 'router/external-provider.yaml',
    doc: 1,
    edits: { 'spec.providerType': 'Gemini' },
    expect: [['spec.providerType', /must be one of "OpenAI", "Anthropic"/]],
  },
  {
    name: 'optional secret',
    file: 'router/external-provider.yaml',
    doc: 1,
    edits: { 'spec.auth.secretRef.optional': true },
    expect: [['spec.auth.secretRef.optional', /must not be true/]],
  },
  {
    name: 'secret key missing',
    file: 'router/external-provider.yaml',
    doc: 1,
    edits: { 'spec.auth.secretRef.key': DELETE },
    expect: [['spec.auth.secretRef.key', /required/]],
  },
  {
    name: 'auth scheme',
    file: 'router/external-provider.yaml',
    doc: 1,
    edits: { 'spec.auth.scheme': 'Basic' },
    expect: [['spec.auth.scheme', /must be one of "Bearer", "APIKey"/]],
  },
  {
    name: 'insecureSkipVerify as string',
    file: 'router/external-provider.yaml',
    doc: 1,
    edits: { 'spec.insecureSkipVerify': 'yes' },
    expect: [['spec.insecureSkipVerify', /true or false/]],
  },

  // ---------------------------------------------------------------- ModelServing
  {
    name: 'negative replicas',
    file: 'modelserving/single-node.yaml',
    edits: { 'spec.replicas': -1 },
    expect: [['spec.replicas', /must not be negative, got -1/]],
  },
  {
    name: 'replicas beyond int32',
    file: 'modelserving/single-node.yaml',
    edits: { 'spec.replicas': 2 ** 40 },
    expect: [['spec.replicas', /32-bit/]],
  },
  {
    name: 'fractional replicas',
    file: 'modelserving/single-node.yaml',
    edits: { 'spec.replicas': 1.5 },
    expect: [['spec.replicas', /must be an integer, got number 1.5/]],
  },
  {
    name: 'template missing',
    file: 'modelserving/single-node.yaml',
    edits: { 'spec.template': DELETE },
    expect: [['spec.template', /required/]],
  },
  {
    name: 'no roles',
    file: 'modelserving/single-node.yaml',
    edits: { 'spec.template.roles': [] },
    expect: [['spec.template.roles', /at least 1 item/]],
  },
  {
    name: 'five roles',
    file: 'modelserving/prefill-decode.yaml',
    edits: {
      'spec.template.roles': ['a', 'b', 'c', 'd', 'e'].map((n) => ({ name: n, workerReplicas: 0, entryTemplate: {} })),
    },
    expect: [['spec.template.roles', /at most 4 items/]],
  },
  {
    name: 'duplicate role names',
    file: 'modelserving/prefill-decode.yaml',
    edits: { 'spec.template.roles[1].name': 'prefill', 'spec.template.gangPolicy': DELETE },
    expect: [['spec.template.roles[1].name', /roles name must be unique/]],
  },
  {
    name: 'role name upper case',
    file: 'modelserving/single-node.yaml',
    edits: { 'spec.template.roles[0].name': 'Server' },
    expect: [['spec.template.roles[0].name', /DNS-1035/]],
  },
  {
    name: 'role name too long',
    file: 'modelserving/single-node.yaml',
    edits: { 'spec.template.roles[0].name': 'inference-srv' },
    expect: [['spec.template.roles[0].name', /at most 12 characters/]],
  },
  {
    name: 'pod names too long',
    file: 'modelserving/single-node.yaml',
    edits: { 'metadata.name': 'q'.repeat(60) },
    expect: [['spec.template.roles[0].name', /would not be valid DNS-1035 labels/]],
  },
  {
    name: 'gang key is not a role',
    file: 'modelserving/prefill-decode.yaml',
    edits: { 'spec.template.gangPolicy.minRoleReplicas.router': 1 },
    expect: [['spec.template.gangPolicy.minRoleReplicas[router]', /not a role/]],
  },
  {
    name: 'gang value above role replicas',
    file: 'modelserving/prefill-decode.yaml',
    edits: { 'spec.template.gangPolicy.minRoleReplicas.prefill': 3 },
    expect: [['spec.template.gangPolicy.minRoleReplicas[prefill]', /between 0 and the role's replicas \(2\)/]],
  },
  {
    name: 'workers without template',
    file: 'modelserving/single-node.yaml',
    edits: { 'spec.template.roles[0].workerReplicas': 2 },
    expect: [['spec.template.roles[0].workerTemplate', /required when workerReplicas is 2/]],
  },
  {
    name: 'negative workers',
    file: 'modelserving/multi-node.yaml',
    edits: { 'spec.template.roles[0].workerReplicas': -3 },
    expect: [['spec.template.roles[0].workerReplicas', /negative/]],
  },
  {
    name: 'image with a space',
    file: 'modelserving/multi-node.yaml',
    edits: { 'spec.template.roles[0].workerTemplate.spec.containers[0].image': 'vllm/vllm-openai: v0.10.0' },
    expect: [['spec.template.roles[0].workerTemplate.spec.containers[0].image', /whitespace/]],
  },
  {
    name: 'containers missing',
    file: 'modelserving/single-node.yaml',
    edits: { 'spec.template.roles[0].entryTemplate.spec.containers': DELETE },
    expect: [['spec.template.roles[0].entryTemplate.spec.containers', /required/]],
  },
  {
    name: 'container port out of range',
    file: 'modelserving/single-node.yaml',
    edits: { 'spec.template.roles[0].entryTemplate.spec.containers[0].ports[0].containerPort': 70000 },
    expect: [['spec.template.roles[0].entryTemplate.spec.containers[0].ports[0].containerPort', /at most 65535/]],
  },
  {
    name: 'bad quantity',
    file: 'modelserving/single-node.yaml',
    edits: { 'spec.template.roles[0].entryTemplate.spec.containers[0].resources.limits.memory': 'lots' },
    expect: [
      ['spec.template.roles[0].entryTemplate.spec.containers[0].resources.limits[memory]', /not a valid quantity/],
    ],
  },
  {
    name: 'duplicate env',
    file: 'modelserving/multi-node.yaml',
    edits: { 'spec.template.roles[0].entryTemplate.spec.containers[0].env[1]': { name: 'NCCL_DEBUG', value: 'INFO' } },
    expect: [['spec.template.roles[0].entryTemplate.spec.containers[0].env[1]', /duplicate entry name=NCCL_DEBUG/]],
  },
  {
    name: 'toleration operator',
    file: 'modelserving/gang-network-topology.yaml',
    edits: { 'spec.template.roles[1].entryTemplate.spec.tolerations[0].operator': 'Matches' },
    expect: [['spec.template.roles[1].entryTemplate.spec.tolerations[0].operator', /must be one of "Exists", "Equal"/]],
  },
  {
    name: 'recovery policy',
    file: 'modelserving/single-node.yaml',
    edits: { 'spec.recoveryPolicy': 'Always' },
    expect: [['spec.recoveryPolicy', /must be one of/]],
  },
  {
    name: 'group config with role rolling',
    file: 'modelserving/role-rolling-update.yaml',
    edits: { 'spec.rolloutStrategy.rollingUpdateConfiguration': { maxUnavailable: 1 } },
    expect: [['spec.rolloutStrategy.rollingUpdateConfiguration', /not allowed with type RoleRollingUpdate/]],
  },
  {
    name: 'role partition without role rolling',
    file: 'modelserving/single-node.yaml',
    edits: { 'spec.template.roles[0].partition': 1 },
    expect: [['spec.template.roles[0].partition', /only allowed with rolloutStrategy.type RoleRollingUpdate/]],
  },
  {
    name: 'role maxUnavailable resolves to 0',
    file: 'modelserving/role-rolling-update.yaml',
    edits: { 'spec.template.roles[0].maxUnavailable': '10%' },
    expect: [['spec.template.roles[0].maxUnavailable', /resolves to 0 of 4/]],
  },
  {
    name: 'role maxUnavailable above replicas',
    file: 'modelserving/role-rolling-update.yaml',
    edits: { 'spec.template.roles[1].maxUnavailable': 5 },
    expect: [['spec.template.roles[1].maxUnavailable', /must not exceed the role's replicas \(2\)/]],
  },
  {
    name: 'group maxUnavailable resolves to 0',
    file: 'modelserving/role-rolling-update.yaml',
    doc: 1,
    edits: { 'spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable': '10%' },
    expect: [['spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable', /resolves to 0 of 8/]],
  },
  {
    name: 'percentage above 100',
    file: 'modelserving/role-rolling-update.yaml',
    doc: 1,
    edits: { 'spec.rolloutStrategy.rollingUpdateConfiguration.partition': '150%' },
    expect: [['spec.rolloutStrategy.rollingUpdateConfiguration.partition', /between 0% and 100%/]],
  },
  {
    name: 'percentage garbage',
    file: 'modelserving/role-rolling-update.yaml',
    doc: 1,
    edits: { 'spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable': 'half' },
    expect: [['spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable', /percentage like "25%"/]],
  },
  {
    name: 'group recreate with role rolling',
    file: 'modelserving/role-rolling-update.yaml',
    edits: { 'spec.recoveryPolicy': 'ServingGroupRecreate' },
    expect: [['spec.recoveryPolicy', /cannot be combined with rolloutStrategy.type RoleRollingUpdate/]],
  },
  {
    name: 'rollout type',
    file: 'modelserving/role-rolling-update.yaml',
    edits: { 'spec.rolloutStrategy.type': 'Recreate' },
    expect: [['spec.rolloutStrategy.type', /must be one of "ServingGroupRollingUpdate", "RoleRollingUpdate"/]],
  },
  {
    name: 'both highest tier fields',
    file: 'modelserving/gang-network-topology.yaml',
    edits: { 'spec.template.networkTopology.groupPolicy.highestTierName': 'spine' },
    expect: [['spec.template.networkTopology.groupPolicy', /not both/]],
  },
  {
    name: 'topology mode',
    file: 'modelserving/gang-network-topology.yaml',
    edits: { 'spec.template.networkTopology.rolePolicy.mode': 'strict' },
    expect: [['spec.template.networkTopology.rolePolicy.mode', /must be one of "hard", "soft"/]],
  },
  {
    name: 'negative tier',
    file: 'modelserving/gang-network-topology.yaml',
    edits: { 'spec.template.networkTopology.groupPolicy.highestTierAllowed': -1 },
    expect: [['spec.template.networkTopology.groupPolicy.highestTierAllowed', /negative/]],
  },
  {
    name: 'plugin without name',
    file: 'modelserving/single-node.yaml',
    edits: { 'spec.plugins': [{ type: 'BuiltIn' }] },
    expect: [['spec.plugins[0].name', /required/]],
  },

  // ---------------------------------------------------------------- ModelBooster
  {
    name: 'backend type',
    file: 'modelbooster/vllm.yaml',
    edits: { 'spec.backend.type': 'MindIE' },
    expect: [['spec.backend.type', /must be one of "vLLM", "vLLMDisaggregated", "SGLang", "SGLangDisaggregated"/]],
  },
  {
    name: 'model URI scheme',
    file: 'modelbooster/vllm.yaml',
    edits: { 'spec.backend.modelURI': 'https://huggingface.co/Qwen' },
    expect: [['spec.backend.modelURI', /does not match/]],
  },
  {
    name: 'cache URI scheme',
    file: 'modelbooster/vllm.yaml',
    edits: { 'spec.backend.cacheURI': 's3://bucket' },
    expect: [['spec.backend.cacheURI', /does not match/]],
  },
  {
    name: 'vLLM with two workers',
    file: 'modelbooster/vllm.yaml',
    edits: { 'spec.backend.workers[1]': { type: 'server', replicas: 1, pods: 1 } },
    expect: [['spec.backend.workers', /exactly one worker of type server/]],
  },
  {
    name: 'vLLM with a prefill worker',
    file: 'modelbooster/vllm.yaml',
    edits: { 'spec.backend.workers[0].type': 'prefill' },
    expect: [['spec.backend.workers', /exactly one worker of type server, got prefill/]],
  },
  {
    name: 'PD with a server worker',
    file: 'modelbooster/vllm-pd.yaml',
    edits: { 'spec.backend.workers[0].type': 'server' },
    expect: [['spec.backend.workers[0].type', /only takes prefill and decode/]],
  },
  {
    name: 'PD without decode',
    file: 'modelbooster/vllm-pd.yaml',
    edits: { 'spec.backend.workers': DELETE },
    expect: [['spec.backend.workers', /required/]],
  },
  {
    name: 'PD with two prefill workers',
    file: 'modelbooster/vllm-pd.yaml',
    edits: { 'spec.backend.workers[1].type': 'prefill' },
    expect: [
      ['spec.backend.workers', /needs a decode worker/],
      ['spec.backend.workers', /at most one prefill worker, got 2/],
    ],
  },
  {
    name: 'engine ports differ',
    file: 'modelbooster/vllm-pd.yaml',
    edits: { 'spec.backend.workers[1].config.port': 8001 },
    expect: [['spec.backend.workers[1].config.port', /differs from 8000/]],
  },
  {
    name: 'engine port out of range',
    file: 'modelbooster/vllm.yaml',
    edits: { 'spec.backend.workers[0].config.port': 70000 },
    expect: [['spec.backend.workers[0].config.port', /between 1 and 65535/]],
  },
  {
    name: 'kv connectors differ',
    file: 'modelbooster/vllm-pd.yaml',
    edits: {
      'spec.backend.workers[1].config.kv-transfer-config':
        '{"kv_connector":"MooncakeConnector","kv_role":"kv_consumer"}',
    },
    expect: [['spec.backend.workers[1].config.kv-transfer-config', /mooncake differs from the prefill worker's nixl/]],
  },
  {
    name: 'kv role of prefill',
    file: 'modelbooster/vllm-pd.yaml',
    edits: {
      'spec.backend.workers[0].config.kv-transfer-config': '{"kv_connector":"NixlConnector","kv_role":"kv_consumer"}',
    },
    expect: [
      [
        'spec.backend.workers[0].config.kv-transfer-config',
        /kv_role of a prefill worker must be kv_producer or kv_both/,
      ],
    ],
  },
  {
    name: 'kv config not JSON',
    file: 'modelbooster/vllm-pd.yaml',
    edits: { 'spec.backend.workers[0].config.kv-transfer-config': '{kv_connector: Nixl' },
    expect: [['spec.backend.workers[0].config.kv-transfer-config', /JSON/]],
  },
  {
    name: 'kv config on one side only',
    file: 'modelbooster/vllm-pd.yaml',
    edits: { 'spec.backend.workers[1].config.kv-transfer-config': DELETE },
    expect: [['spec.backend.workers[1].config.kv-transfer-config', /required because the prefill worker sets one/]],
  },
  {
    name: 'unknown kv connector',
    file: 'modelbooster/vllm-pd.yaml',
    edits: {
      'spec.backend.workers[0].config.kv-transfer-config':
        '{"kv_connector":"P2pNcclConnector","kv_role":"kv_producer"}',
    },
    expect: [['spec.backend.workers[0].config.kv-transfer-config', /not supported/]],
  },
  {
    name: 'pvc model with hostpath cache',
    file: 'modelbooster/vllm.yaml',
    edits: { 'spec.backend.modelURI': 'pvc:///models/qwen' },
    expect: [['spec.backend.cacheURI', /must be a pvc:\/\/ URI/]],
  },
  {
    name: 'pvc model outside the claim',
    file: 'modelbooster/vllm-pd.yaml',
    edits: { 'spec.backend.modelURI': 'pvc:///other-claim/qwen' },
    expect: [['spec.backend.modelURI', /inside the cache claim/]],
  },
  {
    name: 'pvc model with ..',
    file: 'modelbooster/vllm-pd.yaml',
    edits: { 'spec.backend.modelURI': 'pvc:///model-cache/../etc' },
    expect: [['spec.backend.modelURI', /"\.\."/]],
  },
  {
    name: 'worker image with whitespace',
    file: 'modelbooster/vllm.yaml',
    edits: { 'spec.backend.workers[0].image': 'vllm/vllm-openai latest' },
    expect: [['spec.backend.workers[0].image', /whitespace/]],
  },
  {
    name: 'replicas above a million',
    file: 'modelbooster/vllm.yaml',
    edits: { 'spec.backend.replicas': 2000000 },
    expect: [['spec.backend.replicas', /at most 1000000/]],
  },
  {
    name: 'negative pods',
    file: 'modelbooster/vllm.yaml',
    edits: { 'spec.backend.workers[0].pods': -1 },
    expect: [['spec.backend.workers[0].pods', /negative/]],
  },
  {
    name: 'model name pattern',
    file: 'modelbooster/vllm.yaml',
    edits: { 'spec.name': 'Qwen_2.5' },
    expect: [['spec.name', /does not match/]],
  },
  {
    name: 'backend name pattern',
    file: 'modelbooster/vllm.yaml',
    edits: { 'spec.backend.name': 'Backend1' },
    expect: [['spec.backend.name', /does not match/]],
  },
  {
    name: 'no workers',
    file: 'modelbooster/vllm.yaml',
    edits: { 'spec.backend.workers': [] },
    expect: [['spec.backend.workers', /at least 1 item/]],
  },
  {
    name: 'worker type',
    file: 'modelbooster/vllm.yaml',
    edits: { 'spec.backend.workers[0].type': 'leader' },
    expect: [['spec.backend.workers[0].type', /must be one of "server", "prefill"/]],
  },
  {
    name: 'config not a map',
    file: 'modelbooster/vllm.yaml',
    edits: { 'spec.backend.workers[0].config': '--max-model-len 2048' },
    expect: [['spec.backend.workers[0].config', /must be a map/]],
  },

  // ---------------------------------------------------------------- AutoscalingPolicy
  {
    name: 'no target',
    file: 'autoscaling/homogeneous.yaml',
    edits: { 'spec.homogeneousTarget': DELETE },
    expect: [['spec', /set exactly one of homogeneousTarget, heterogeneousTarget or disaggregatedTarget/]],
  },
  {
    name: 'two targets',
    file: 'autoscaling/heterogeneous.yaml',
    edits: { 'spec.homogeneousTarget': { minReplicas: 1, maxReplicas: 2, target: { targetRef: { name: 'x' } } } },
    expect: [['spec', /not homogeneousTarget and heterogeneousTarget/]],
  },
  {
    name: 'homogeneous without metrics',
    file: 'autoscaling/homogeneous.yaml',
    edits: { 'spec.metrics': DELETE },
    expect: [['spec.metrics', /needs at least one metric/]],
  },
  {
    name: 'target value zero',
    file: 'autoscaling/homogeneous.yaml',
    edits: { 'spec.metrics[0].targetValue': '0' },
    expect: [['spec.metrics[0].targetValue', /greater than 0/]],
  },
  {
    name: 'target value negative',
    file: 'autoscaling/homogeneous.yaml',
    edits: { 'spec.metrics[0].targetValue': '-5' },
    expect: [['spec.metrics[0].targetValue', /greater than 0/]],
  },
  {
    name: 'target value as float',
    file: 'autoscaling/homogeneous.yaml',
    edits: { 'spec.metrics[0].targetValue': 0.5 },
    expect: [['spec.metrics[0].targetValue', /integer or a string.*"0.5"/]],
  },
  {
    name: 'target value garbage',
    file: 'autoscaling/homogeneous.yaml',
    edits: { 'spec.metrics[0].targetValue': 'ten' },
    expect: [['spec.metrics[0].targetValue', /not a valid quantity/]],
  },
  {
    name: 'duplicate metric',
    file: 'autoscaling/homogeneous.yaml',
    edits: { 'spec.metrics[1]': { name: 'num_requests_waiting', targetValue: '3' } },
    expect: [['spec.metrics[1].name', /listed twice/]],
  },
  {
    name: 'target kind',
    file: 'autoscaling/homogeneous.yaml',
    edits: { 'spec.homogeneousTarget.target.targetRef.kind': 'Deployment' },
    expect: [['spec.homogeneousTarget.target.targetRef.kind', /must be ModelServing/]],
  },
  {
    name: 'target group',
    file: 'autoscaling/disaggregated.yaml',
    edits: { 'spec.disaggregatedTarget.targetRef.apiVersion': 'apps/v1' },
    expect: [['spec.disaggregatedTarget.targetRef.apiVersion', /workload.serving.volcano.sh/]],
  },
  {
    name: 'target name missing',
    file: 'autoscaling/homogeneous.yaml',
    edits: { 'spec.homogeneousTarget.target.targetRef.name': DELETE },
    expect: [['spec.homogeneousTarget.target.targetRef.name', /required/]],
  },
  {
    name: 'min above max',
    file: 'autoscaling/homogeneous.yaml',
    edits: { 'spec.homogeneousTarget.minReplicas': 7 },
    expect: [['spec.homogeneousTarget.minReplicas', /must not exceed maxReplicas \(6\)/]],
  },
  {
    name: 'max zero',
    file: 'autoscaling/homogeneous.yaml',
    edits: { 'spec.homogeneousTarget.maxReplicas': 0 },
    expect: [['spec.homogeneousTarget.maxReplicas', /at least 1/]],
  },
  {
    name: 'pod and prometheus source',
    file: 'autoscaling/homogeneous.yaml',
    edits: {
      'spec.homogeneousTarget.target.metricSources.num_requests_waiting.prometheus': {
        serverURL: 'http://p:9090',
        query: 'x',
      },
    },
    expect: [['spec.homogeneousTarget.target.metricSources[num_requests_waiting]', /mutually exclusive/]],
  },
  {
    name: 'empty source',
    file: 'autoscaling/homogeneous.yaml',
    edits: { 'spec.homogeneousTarget.target.metricSources.num_requests_waiting': {} },
    expect: [['spec.homogeneousTarget.target.metricSources[num_requests_waiting]', /one of pod or prometheus/]],
  },
  {
    name: 'pod uri without slash',
    file: 'autoscaling/homogeneous.yaml',
    edits: { 'spec.homogeneousTarget.target.metricSources.num_requests_waiting.pod.uri': 'metrics' },
    expect: [['spec.homogeneousTarget.target.metricSources[num_requests_waiting].pod.uri', /does not match \^\//]],
  },
  {
    name: 'pod port zero',
    file: 'autoscaling/homogeneous.yaml',
    edits: { 'spec.homogeneousTarget.target.metricSources.num_requests_waiting.pod.port': 0 },
    expect: [['spec.homogeneousTarget.target.metricSources[num_requests_waiting].pod.port', /at least 1/]],
  },
  {
    name: 'prometheus URL',
    file: 'autoscaling/heterogeneous.yaml',
    edits: {
      'spec.heterogeneousTarget.params[1].target.metricSources.num_requests_running.prometheus.serverURL':
        'prometheus:9090',
    },
    expect: [
      ['spec.heterogeneousTarget.params[1].target.metricSources[num_requests_running].prometheus.serverURL', /http/],
    ],
  },
  {
    name: 'tolerance above 100',
    file: 'autoscaling/homogeneous.yaml',
    edits: { 'spec.tolerancePercent': 150 },
    expect: [['spec.tolerancePercent', /at most 100/]],
  },
  {
    name: 'window above 30m',
    file: 'autoscaling/heterogeneous.yaml',
    edits: { 'spec.behavior.scaleDown.stabilizationWindow': '45m' },
    expect: [['spec.behavior.scaleDown.stabilizationWindow', /between 0s and 30m/]],
  },
  {
    name: 'panic threshold below 110',
    file: 'autoscaling/heterogeneous.yaml',
    edits: { 'spec.behavior.scaleUp.panicPolicy.panicThresholdPercent': 100 },
    expect: [['spec.behavior.scaleUp.panicPolicy.panicThresholdPercent', /at least 110/]],
  },
  {
    name: 'panic without period',
    file: 'autoscaling/heterogeneous.yaml',
    edits: { 'spec.behavior.scaleUp.panicPolicy.period': DELETE },
    expect: [['spec.behavior.scaleUp.panicPolicy.period', /required/]],
  },
  {
    name: 'select policy',
    file: 'autoscaling/heterogeneous.yaml',
    edits: { 'spec.behavior.scaleDown.selectPolicy': 'Xor' },
    expect: [['spec.behavior.scaleDown.selectPolicy', /must be one of "Or", "And"/]],
  },
  {
    name: 'no params',
    file: 'autoscaling/heterogeneous.yaml',
    edits: { 'spec.heterogeneousTarget.params': [] },
    expect: [['spec.heterogeneousTarget.params', /at least 1 item/]],
  },
  {
    name: 'negative cost',
    file: 'autoscaling/heterogeneous.yaml',
    edits: { 'spec.heterogeneousTarget.params[0].cost': -1 },
    expect: [['spec.heterogeneousTarget.params[0].cost', /negative/]],
  },
  {
    name: 'same ModelServing twice',
    file: 'autoscaling/heterogeneous.yaml',
    edits: { 'spec.heterogeneousTarget.params[1].target.targetRef.name': 'qwen-on-l4' },
    expect: [['spec.heterogeneousTarget.params[1].target.targetRef.name', /already targeted by params\[0\]/]],
  },
  {
    name: 'ratio roles equal',
    file: 'autoscaling/disaggregated.yaml',
    edits: { 'spec.disaggregatedTarget.ratioConstraint.denominatorRole': 'prefill' },
    expect: [['spec.disaggregatedTarget.ratioConstraint', /must differ/]],
  },
  {
    name: 'ratio role unknown',
    file: 'autoscaling/disaggregated.yaml',
    edits: { 'spec.disaggregatedTarget.ratioConstraint.numeratorRole': 'router' },
    expect: [['spec.disaggregatedTarget.ratioConstraint.numeratorRole', /not one of the roles/]],
  },
  {
    name: 'min ratio above max',
    file: 'autoscaling/disaggregated.yaml',
    edits: { 'spec.disaggregatedTarget.ratioConstraint.minRatio': '3' },
    expect: [['spec.disaggregatedTarget.ratioConstraint.minRatio', /must not exceed maxRatio/]],
  },
  {
    name: 'scale to zero alone',
    file: 'autoscaling/disaggregated.yaml',
    edits: { 'spec.disaggregatedTarget.roles.prefill.minReplicas': 0 },
    expect: [['spec.disaggregatedTarget.ratioConstraint', /scale to zero together/]],
  },
  {
    name: 'ratio cannot be met',
    file: 'autoscaling/disaggregated.yaml',
    edits: {
      'spec.disaggregatedTarget.roles.prefill.minReplicas': 8,
      'spec.disaggregatedTarget.roles.decode.maxReplicas': 2,
    },
    expect: [
      [
        'spec.disaggregatedTarget.ratioConstraint',
        /cannot be met: even at prefill.minReplicas=8 and decode.maxReplicas=2 the ratio 4 exceeds maxRatio 2/,
      ],
    ],
  },
  {
    name: 'three roles',
    file: 'autoscaling/disaggregated.yaml',
    edits: { 'spec.disaggregatedTarget.roles.router': { minReplicas: 1, maxReplicas: 1 } },
    expect: [['spec.disaggregatedTarget.roles', /at most 2 entries/]],
  },
  {
    name: 'ratio with one role',
    file: 'autoscaling/disaggregated.yaml',
    edits: { 'spec.disaggregatedTarget.roles.decode': DELETE },
    expect: [['spec.disaggregatedTarget.ratioConstraint', /needs two roles/]],
  },
  {
    name: 'role without sources',
    file: 'autoscaling/disaggregated.yaml',
    edits: { 'spec.disaggregatedTarget.roles.prefill.metricSources': DELETE },
    expect: [['spec.disaggregatedTarget.roles[prefill].metricSources', /is required: say where to read waiting/]],
  },
  {
    name: 'source for an unknown metric',
    file: 'autoscaling/disaggregated.yaml',
    edits: { 'spec.disaggregatedTarget.roles.decode.metricSources.waiting': { pod: { port: 8000 } } },
    expect: [['spec.disaggregatedTarget.roles[decode].metricSources[waiting]', /not one of the metrics \(kv_usage\)/]],
  },
  {
    name: 'scalable role without metrics',
    file: 'autoscaling/disaggregated.yaml',
    edits: { 'spec.metrics': DELETE },
    expect: [['spec.disaggregatedTarget.roles[prefill]', /needs metrics/]],
  },
  {
    name: 'role min above max',
    file: 'autoscaling/disaggregated.yaml',
    edits: { 'spec.disaggregatedTarget.roles.decode.minReplicas': 9 },
    expect: [['spec.disaggregatedTarget.roles[decode].minReplicas', /must not exceed maxReplicas \(8\)/]],
  },
];

for (const v of VARIANTS) {
  test(`broken: ${v.name} (${v.file})`, () => {
    const base = load(v.file)[v.doc ?? 0];
    const broken = applyEdits(base, v.edits);
    const r = validate(broken, { strict: v.strict });
    assert.ok(r.errors.length > 0, `expected errors, got none (warnings: ${JSON.stringify(r.warnings)})`);
    for (const [path, re] of v.expect) {
      const hit = r.errors.some((e) => e.path === path && re.test(e.message));
      assert.ok(hit, `no error at ${path} matching ${re}; got ${JSON.stringify(r.errors, null, 1)}`);
    }
  });
}

test('a role without workerReplicas is valid (0 workers; upstream requires the field, docs/modelserving.md)', () => {
  const [ms] = load('modelserving/single-node.yaml');
  const edited = applyEdits(ms, { 'spec.template.roles[0].workerReplicas': DELETE });
  assert.deepEqual(validate(edited, { strict: true }), { errors: [], warnings: [] });
});

test('every kind has at least five broken variants', () => {
  const perKind = new Map<string, number>();
  for (const v of VARIANTS) {
    const base = load(v.file)[v.doc ?? 0] as { kind: string };
    perKind.set(base.kind, (perKind.get(base.kind) ?? 0) + 1);
  }
  for (const kind of Object.keys(KINDS)) assert.ok((perKind.get(kind) ?? 0) >= 5, `${kind}: ${perKind.get(kind) ?? 0}`);
});
