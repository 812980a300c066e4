// booster → ModelServing `<booster>-<backend>` (§3.3): one `leader` role for a single-server backend, `prefill` and
// `decode` roles for a disaggregated one. Pure; labels, revision and owner are added by children.ts.
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { ModelServing, Role } from '../modelserving/types.js';
import {
  cacheMount,
  downloaderContainer,
  drainScript,
  engineCommand,
  engineEnv,
  enginePort,
  healthProbe,
  isSGLang,
  rayWorkerCommand,
  runtimeContainer,
  workerType,
} from './containers.js';
import { type BoosterImages, backendChildMeta, WORKLOAD_API } from './naming.js';
import { cacheVolume } from './storage.js';
import type { ModelBooster, Worker } from './types.js';

export interface ServingInputs {
  booster: ModelBooster;
  images: BoosterImages;
  /** labels of every pod template (the booster's labels: the ModelServer selects on model-uid) */
  podLabels: Record<string, string>;
}

const DSHM = { name: 'dshm', emptyDir: { medium: 'Memory' } };
const DSHM_MOUNT = { name: 'dshm', mountPath: '/dev/shm' };

function scheduling(mb: ModelBooster, w: Worker) {
  const rc = mb.spec.backend.runtimeClassName;
  return {
    ...(rc ? { runtimeClassName: rc } : {}),
    ...(w.affinity ? { affinity: w.affinity } : {}),
    ...(w.tolerations?.length ? { tolerations: w.tolerations } : {}),
  };
}

/** A pod template of the booster: its labels, the worker's scheduling fields and the downloader first. */
function podTemplate(i: ServingInputs, w: Worker, spec: Omit<NonNullable<PodTemplateSpec['spec']>, 'initContainers'>) {
  return {
    metadata: { labels: { ...i.podLabels } },
    spec: { ...scheduling(i.booster, w), initContainers: [downloaderContainer(i.booster, i.images)], ...spec },
  };
}

function serverEntry(i: ServingInputs, w: Worker): PodTemplateSpec {
  const backend = i.booster.spec.backend;
  const port = enginePort(backend);
  return podTemplate(i, w, {
    terminationGracePeriodSeconds: 300,
    volumes: [cacheVolume(backend), DSHM],
    containers: [
      runtimeContainer(i.booster, i.images, true),
      {
        name: 'engine',
        image: w.image,
        command: engineCommand(i.booster, w),
        env: engineEnv(backend),
        ...(w.resources ? { resources: w.resources } : {}),
        volumeMounts: [cacheMount(backend), DSHM_MOUNT],
        readinessProbe: healthProbe(port, {
          initialDelaySeconds: 180,
          periodSeconds: 5,
          failureThreshold: 3,
          timeoutSeconds: 1,
        }),
        lifecycle: { preStop: { exec: { command: ['/bin/sh', '-c', drainScript(port, isSGLang(backend))] } } },
      },
    ],
  });
}

function rayWorker(i: ServingInputs, w: Worker): PodTemplateSpec {
  const backend = i.booster.spec.backend;
  return podTemplate(i, w, {
    volumes: [cacheVolume(backend), DSHM],
    containers: [
      {
        name: `${backend.name}-vllm-worker`,
        image: w.image,
        command: rayWorkerCommand(),
        ...(backend.env?.length ? { env: backend.env } : {}),
        ...(w.resources ? { resources: w.resources } : {}),
        volumeMounts: [cacheMount(backend), DSHM_MOUNT],
      },
    ],
  });
}

/** Extra engine env of a disaggregated role (upstream's NIC/host settings for the KV transfer). */
function roleEnv(role: 'prefill' | 'decode') {
  const offline = { name: 'HF_HUB_OFFLINE', value: '1' };
  if (role === 'prefill')
    return [offline, { name: 'HCCL_IF_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }];
  return [
    offline,
    { name: 'GLOO_SOCKET_IFNAME', value: 'eth0' },
    { name: 'TP_SOCKET_IFNAME', value: 'eth0' },
    { name: 'HCCL_SOCKET_IFNAME', value: 'eth0' },
  ];
}

function disaggregatedEntry(i: ServingInputs, w: Worker, role: 'prefill' | 'decode'): PodTemplateSpec {
  const backend = i.booster.spec.backend;
  const port = enginePort(backend);
  return podTemplate(i, w, {
    volumes: [cacheVolume(backend)],
    containers: [
      runtimeContainer(i.booster, i.images, role === 'decode'),
      {
        name: backend.type.startsWith('SGLang') ? 'sglang' : 'vllm',
        image: w.image,
        command: engineCommand(i.booster, w),
        ports: [{ containerPort: port }],
        imagePullPolicy: 'IfNotPresent',
        env: [...engineEnv(backend), ...roleEnv(role)],
        ...(w.resources ? { resources: w.resources } : {}),
        volumeMounts: [cacheMount(backend)],
        readinessProbe: healthProbe(port, { initialDelaySeconds: 5, periodSeconds: 5, failureThreshold: 3 }),
        livenessProbe: healthProbe(port, { initialDelaySeconds: 180, periodSeconds: 5, failureThreshold: 3 }),
      },
    ],
  });
}

export function isDisaggregated(type: string): boolean {
  return type.endsWith('Disaggregated');
}

function roles(i: ServingInputs): Role[] {
  const backend = i.booster.spec.backend;
  if (!isDisaggregated(backend.type)) {
    const w = backend.workers.find((x) => workerType(x) === 'server') ?? backend.workers[0];
    const workers = Math.max(0, w.pods - 1);
    return [
      {
        name: 'leader',
        replicas: w.replicas,
        entryTemplate: serverEntry(i, w),
        workerReplicas: workers,
        ...(workers > 0 ? { workerTemplate: rayWorker(i, w) } : {}),
      },
    ];
  }
  const out: Role[] = [];
  for (const role of ['prefill', 'decode'] as const) {
    const w = backend.workers.find((x) => workerType(x) === role);
    if (!w) continue;
    out.push({
      name: role,
      replicas: w.replicas,
      entryTemplate: disaggregatedEntry(i, w, role),
      workerReplicas: 0,
      // upstream gives every role a worker template, so each role instance also gets its headless Service
      workerTemplate: { spec: { containers: [] } },
    });
  }
  return out;
}

/** The ModelServing of a booster, without labels, revision or owner. */
export function modelServingFor(i: ServingInputs): ModelServing {
  const mb = i.booster;
  const backend = mb.spec.backend;
  const rs = roles(i);
  return {
    apiVersion: WORKLOAD_API,
    kind: 'ModelServing',
    metadata: backendChildMeta(mb),
    spec: {
      replicas: backend.replicas,
      ...(backend.schedulerName ? { schedulerName: backend.schedulerName } : {}),
      template: {
        restartGracePeriodSeconds: 60,
        gangPolicy: { minRoleReplicas: Object.fromEntries(rs.map((r) => [r.name, r.replicas ?? 1])) },
        roles: rs,
      },
    },
  };
}
