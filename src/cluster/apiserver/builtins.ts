// The built-in kinds served by the local API server and their per-kind behaviour.
import { validateWebhookConfiguration } from './admission.js';
import { crdStrategy } from './crd.js';
import { validatePdb } from './disruption.js';
import { cause } from './errors.js';
import { podGracePeriod, preparePodCreate, validatePod } from './pods.js';
import { type FieldGetters, META_GETTERS, pathGetter } from './selectors.js';
import * as tables from './tables.js';
import { ALL_VERBS, type ResourceType, type Strategy, type SubresourceInfo } from './types.js';
import type { Obj } from './util.js';
import { type KindDef, RBAC_KINDS, WEBHOOK_CONFIGURATION_KINDS, WORKLOAD_KINDS } from './workload-kinds.js';

function getters(...paths: string[]): FieldGetters {
  const g: FieldGetters = { ...META_GETTERS };
  for (const p of paths) g[p] = pathGetter(p);
  return g;
}

/** Secret.stringData is a write-only convenience merged into data (base64) by the server. */
function foldStringData(o: Obj): void {
  if (o.stringData && typeof o.stringData === 'object') {
    o.data = { ...(o.data ?? {}) };
    for (const [k, v] of Object.entries(o.stringData)) o.data[k] = Buffer.from(String(v), 'utf8').toString('base64');
  }
  delete o.stringData;
}

const SPEC_STATUS = ['spec', 'status'];

function strategy(over: Partial<Strategy>): Strategy {
  return {
    tracksGeneration: false,
    allowUnconditionalUpdate: true,
    returnDeletedObject: false,
    strategicMerge: true,
    nameRule: 'subdomain',
    fieldGetters: META_GETTERS,
    table: tables.defaultTable,
    ...over,
  };
}

interface Def extends KindDef {
  version?: string;
  extra?: SubresourceInfo[];
}

function def(d: Def): ResourceType {
  const version = d.version ?? 'v1';
  return {
    group: d.group ?? '',
    versions: [version],
    storageVersion: version,
    plural: d.plural,
    singular: d.kind.toLowerCase(),
    kind: d.kind,
    listKind: `${d.kind}List`,
    namespaced: d.namespaced ?? true,
    shortNames: d.shortNames ?? [],
    categories: d.categories ?? [],
    verbs: ALL_VERBS,
    status: d.status ?? false,
    extraSubresources: d.extra ?? [],
    scale: d.scale,
    builtin: true,
    strategy: strategy(d.strategy ?? {}),
  };
}

let nextClusterIP = 1;
function prepareService(svc: Obj): void {
  svc.spec ??= {};
  const spec: Obj = svc.spec;
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  if (spec.clusterIP === undefined && spec.type !== 'ExternalName') {
    const n = nextClusterIP++;
    spec.clusterIP = `10.96.${(n >> 8) & 255}.${n & 255}`;
    spec.clusterIPs = [spec.clusterIP];
  }
  spec.ipFamilies ??= ['IPv4'];
  spec.ipFamilyPolicy ??= 'SingleStack';
  spec.internalTrafficPolicy ??= 'Cluster';
  for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
    if (!p || typeof p !== 'object') continue;
    p.protocol ??= 'TCP';
    p.targetPort ??= p.port;
  }
  svc.status ??= { loadBalancer: {} };
}

function validateService(svc: Obj) {
  const out = [];
  for (const [i, p] of (Array.isArray(svc.spec?.ports) ? svc.spec.ports : []).entries()) {
    if (!Number.isInteger(p?.port) || p.port < 1 || p.port > 65535)
      out.push(cause.invalid(`spec.ports[${i}].port`, p?.port, 'must be between 1 and 65535, inclusive'));
  }
  return out;
}

const podStrategy: Partial<Strategy> = {
  returnDeletedObject: true,
  fieldGetters: getters(
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ),
  prepareCreate: preparePodCreate,
  validate: (o, old) => validatePod(o, old),
  topLevel: SPEC_STATUS,
  statusKeepsMetadata: true,
  gracePeriod: podGracePeriod,
  table: tables.podTable,
};
// hostNetwork reads "false" when unset, like the real field selector.
podStrategy.fieldGetters!['spec.hostNetwork'] = (o: Obj) => String(!!o.spec?.hostNetwork);

const eventGetters = getters(
  'involvedObject.kind',
  'involvedObject.namespace',
  'involvedObject.name',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.resourceVersion',
  'involvedObject.fieldPath',
  'reason',
  'reportingComponent',
  'type',
);
eventGetters.source = (o: Obj) => o.source?.component ?? '';

export function builtinTypes(): ResourceType[] {
  return [
    def({
      plural: 'namespaces',
      kind: 'Namespace',
      namespaced: false,
      shortNames: ['ns'],
      status: true,
      extra: [{ name: 'finalize', kind: 'Namespace', verbs: ['update'] }],
      strategy: {
        nameRule: 'label',
        fieldGetters: getters('status.phase'),
        topLevel: SPEC_STATUS,
        prepareCreate(o) {
          o.spec = { ...(o.spec ?? {}), finalizers: ['kubernetes'] };
          o.status = { phase: 'Active' };
        },
        prepareUpdate(o, old) {
          // spec.finalizers only change through /finalize.
          o.spec = structuredClone(old.spec ?? {});
        },
        table: tables.namespaceTable,
      },
    }),
    def({
      plural: 'pods',
      kind: 'Pod',
      shortNames: ['po'],
      categories: ['all'],
      status: true,
      extra: [
        { name: 'binding', kind: 'Binding', verbs: ['create'] },
        { name: 'log', kind: 'Pod', verbs: ['get'] },
        // policy/v1 Eviction: `kubectl drain` looks for exactly this discovery entry (group and version set)
        { name: 'eviction', kind: 'Eviction', verbs: ['create'], group: 'policy', version: 'v1' },
      ],
      strategy: podStrategy,
    }),
    def({
      plural: 'services',
      kind: 'Service',
      shortNames: ['svc'],
      categories: ['all'],
      status: true,
      strategy: {
        nameRule: 'label',
        prepareCreate: prepareService,
        validate: validateService,
        table: tables.serviceTable,
      },
    }),
    def({
      plural: 'endpoints',
      kind: 'Endpoints',
      shortNames: ['ep'],
      strategy: { table: tables.endpointsTable, topLevel: ['subsets'] },
    }),
    def({
      plural: 'configmaps',
      kind: 'ConfigMap',
      shortNames: ['cm'],
      strategy: { table: tables.configMapTable, topLevel: ['data', 'binaryData', 'immutable'] },
    }),
    def({
      plural: 'secrets',
      kind: 'Secret',
      strategy: {
        fieldGetters: getters('type'),
        topLevel: ['data', 'stringData', 'type', 'immutable'],
        prepareCreate(o) {
          o.type ??= 'Opaque';
          foldStringData(o);
        },
        prepareUpdate(o) {
          foldStringData(o);
        },
        table: tables.secretTable,
      },
    }),
    def({
      plural: 'serviceaccounts',
      kind: 'ServiceAccount',
      shortNames: ['sa'],
      strategy: {
        table: tables.serviceAccountTable,
        topLevel: ['secrets', 'imagePullSecrets', 'automountServiceAccountToken'],
      },
    }),
    def({
      plural: 'events',
      kind: 'Event',
      shortNames: ['ev'],
      strategy: {
        fieldGetters: eventGetters,
        nameRule: 'path',
        table: tables.eventTable,
        topLevel: [
          'involvedObject',
          'reason',
          'message',
          'source',
          'firstTimestamp',
          'lastTimestamp',
          'count',
          'type',
          'eventTime',
          'series',
          'action',
          'related',
          'reportingComponent',
          'reportingInstance',
        ],
      },
    }),
    def({
      plural: 'nodes',
      kind: 'Node',
      namespaced: false,
      shortNames: ['no'],
      status: true,
      strategy: { fieldGetters: getters('spec.unschedulable'), table: tables.nodeTable, topLevel: SPEC_STATUS },
    }),
    def({
      group: 'apps',
      plural: 'controllerrevisions',
      kind: 'ControllerRevision',
      strategy: { table: tables.controllerRevisionTable, topLevel: ['data', 'revision'] },
    }),
    def({
      group: 'policy',
      plural: 'poddisruptionbudgets',
      kind: 'PodDisruptionBudget',
      shortNames: ['pdb'],
      status: true,
      strategy: {
        tracksGeneration: true,
        validate: (o) => validatePdb(o),
        table: tables.pdbTable,
        topLevel: SPEC_STATUS,
      },
    }),
    def({
      group: 'coordination.k8s.io',
      plural: 'leases',
      kind: 'Lease',
      strategy: { table: tables.leaseTable, topLevel: ['spec'] },
    }),
    def({
      group: 'discovery.k8s.io',
      plural: 'endpointslices',
      kind: 'EndpointSlice',
      strategy: { table: tables.endpointSliceTable, topLevel: ['addressType', 'endpoints', 'ports'] },
    }),
    ...(['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'] as const).map((kind) =>
      def({
        group: 'admissionregistration.k8s.io',
        plural: `${kind.toLowerCase()}s`,
        kind,
        namespaced: false,
        categories: ['api-extensions'],
        strategy: { topLevel: ['webhooks'], validate: (o) => validateWebhookConfiguration(o) },
      }),
    ),
    def({
      group: 'scheduling.k8s.io',
      plural: 'priorityclasses',
      kind: 'PriorityClass',
      namespaced: false,
      shortNames: ['pc'],
      strategy: {
        table: tables.priorityClassTable,
        topLevel: ['value', 'globalDefault', 'description', 'preemptionPolicy'],
      },
    }),
    ...WORKLOAD_KINDS.map(def),
    ...RBAC_KINDS.map(def),
    ...WEBHOOK_CONFIGURATION_KINDS.map(def),
    def({
      group: 'apiextensions.k8s.io',
      plural: 'customresourcedefinitions',
      kind: 'CustomResourceDefinition',
      namespaced: false,
      shortNames: ['crd', 'crds'],
      categories: ['api-extensions'],
      status: true,
      strategy: crdStrategy(),
    }),
  ];
}
