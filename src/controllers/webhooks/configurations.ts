// The webhook configurations that make an API server call us: upstream's two names, one webhook per kind and
// operation set (CREATE, UPDATE), failurePolicy Fail by default. Pure: base URL (+ CA) → objects.
import { PATHS } from './kthena.js';
import { MUTATE_PATH, VALIDATE_PATH } from './modelserving.js';

export const VALIDATING_NAME = 'kthena-controller-manager-validating-webhook';
export const MUTATING_NAME = 'kthena-controller-manager-mutating-webhook';

interface HookSpec {
  name: string;
  path: string;
  group: string;
  resource: string;
}

const V: HookSpec[] = [
  {
    name: 'validate.modelserving.workload.serving.volcano.sh',
    path: VALIDATE_PATH,
    group: 'workload.serving.volcano.sh',
    resource: 'modelservings',
  },
  {
    name: 'validate.modelbooster.workload.serving.volcano.sh',
    path: PATHS.validateModelBooster,
    group: 'workload.serving.volcano.sh',
    resource: 'modelboosters',
  },
  {
    name: 'validate.autoscalingpolicy.workload.serving.volcano.sh',
    path: PATHS.validateAutoscalingPolicy,
    group: 'workload.serving.volcano.sh',
    resource: 'autoscalingpolicies',
  },
  {
    name: 'validate.modelroute.networking.serving.volcano.sh',
    path: PATHS.validateModelRoute,
    group: 'networking.serving.volcano.sh',
    resource: 'modelroutes',
  },
  {
    name: 'validate.modelserver.networking.serving.volcano.sh',
    path: PATHS.validateModelServer,
    group: 'networking.serving.volcano.sh',
    resource: 'modelservers',
  },
];
const M: HookSpec[] = [
  {
    name: 'mutate.modelserving.workload.serving.volcano.sh',
    path: MUTATE_PATH,
    group: 'workload.serving.volcano.sh',
    resource: 'modelservings',
  },
  {
    name: 'mutate.modelbooster.workload.serving.volcano.sh',
    path: PATHS.mutateModelBooster,
    group: 'workload.serving.volcano.sh',
    resource: 'modelboosters',
  },
  {
    name: 'mutate.autoscalingpolicy.workload.serving.volcano.sh',
    path: PATHS.mutateAutoscalingPolicy,
    group: 'workload.serving.volcano.sh',
    resource: 'autoscalingpolicies',
  },
];

function hook(
  h: HookSpec,
  baseUrl: string,
  caBundle: string | undefined,
  mutating: boolean,
  failurePolicy: FailurePolicy,
) {
  return {
    name: h.name,
    clientConfig: { url: `${baseUrl}${h.path}`, ...(caBundle ? { caBundle } : {}) },
    rules: [
      {
        apiGroups: [h.group],
        apiVersions: ['v1alpha1'],
        operations: ['CREATE', 'UPDATE'],
        resources: [h.resource],
        scope: 'Namespaced',
      },
    ],
    failurePolicy,
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    timeoutSeconds: 30,
    ...(mutating ? { reinvocationPolicy: 'IfNeeded' } : {}),
  };
}

export type FailurePolicy = 'Fail' | 'Ignore';

export function webhookConfigurations(baseUrl: string, caBundle?: string, failurePolicy: FailurePolicy = 'Fail') {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    validating: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: VALIDATING_NAME },
      webhooks: V.map((h) => hook(h, base, caBundle, false, failurePolicy)),
    },
    mutating: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: MUTATING_NAME },
      webhooks: M.map((h) => hook(h, base, caBundle, true, failurePolicy)),
    },
  };
}
