// Names, labels and images of everything the ModelBooster controller creates. These are upstream's wire names, so
// children made by upstream's Go controller and by ours select and compare the same way.
import { readFileSync } from 'node:fs';
import type { ResourceRefLike } from '../modelserving/io.js';

export const WORKLOAD_API = 'workload.serving.volcano.sh/v1alpha1';
export const NETWORKING_API = 'networking.serving.volcano.sh/v1alpha1';
export const BOOSTER_KIND = 'ModelBooster';

export const LABEL_MODEL_NAME = 'workload.serving.volcano.sh/model-name';
export const LABEL_BACKEND_NAME = 'workload.serving.volcano.sh/backend-name';
export const LABEL_MANAGED_BY = 'workload.serving.volcano.sh/managed-by';
export const LABEL_REVISION = 'workload.serving.volcano.sh/revision';
export const LABEL_MODEL_UID = 'workload.serving.volcano.sh/model-uid';
export const MANAGED_BY = 'workload.serving.volcano.sh';
/** Label selector of the child informers (upstream filters the same way). */
export const CHILD_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;

const ref = (group: string, plural: string, kind: string): ResourceRefLike =>
  Object.freeze({ group, version: 'v1alpha1', plural, kind, namespaced: true });
export const BOOSTER_REFS = {
  modelBoosters: ref('workload.serving.volcano.sh', 'modelboosters', 'ModelBooster'),
  modelServings: ref('workload.serving.volcano.sh', 'modelservings', 'ModelServing'),
  modelServers: ref('networking.serving.volcano.sh', 'modelservers', 'ModelServer'),
  modelRoutes: ref('networking.serving.volcano.sh', 'modelroutes', 'ModelRoute'),
  autoscalingPolicies: ref('workload.serving.volcano.sh', 'autoscalingpolicies', 'AutoscalingPolicy'),
} as const;
export const CONFIGMAP_REF: ResourceRefLike = Object.freeze({
  group: '',
  version: 'v1',
  plural: 'configmaps',
  kind: 'ConfigMap',
  namespaced: true,
});

/** `<booster>-<backend>`: the ModelServing, the ModelServer and the AutoscalingPolicy of one backend. */
export function backendChildName(booster: string, backend: string): string {
  return `${booster}-${backend}`;
}

/** Metadata of a per-backend child (labels and owner are added by children.ts). */
export function backendChildMeta(mb: {
  metadata: { name: string; namespace?: string };
  spec: { backend: { name: string } };
}) {
  return { name: backendChildName(mb.metadata.name, mb.spec.backend.name), namespace: mb.metadata.namespace };
}

// ---- images ------------------------------------------------------------------------------------------------

export const CONFIGMAP_NAME = 'model-booster-controller-config';
export const KEY_DOWNLOADER_IMAGE = 'model_serving_downloader_image';
export const KEY_RUNTIME_IMAGE = 'model_serving_runtime_image';

const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Our one image: every `kthena` subcommand, the downloader and the runtime sidecar included (ADR 0007). */
export const KTHENA_IMAGE = `ghcr.io/kthena-ts/kthena:${VERSION}`;

export interface BoosterImages {
  downloader: string;
  runtime: string;
}
export const DEFAULT_IMAGES: BoosterImages = { downloader: KTHENA_IMAGE, runtime: KTHENA_IMAGE };

/** The controller's ConfigMap data → images (an empty or missing key keeps the default). */
export function imagesFromConfig(data: Record<string, string> | undefined): BoosterImages {
  const pick = (k: string, d: string) => (data?.[k]?.trim() ? data[k].trim() : d);
  return {
    downloader: pick(KEY_DOWNLOADER_IMAGE, DEFAULT_IMAGES.downloader),
    runtime: pick(KEY_RUNTIME_IMAGE, DEFAULT_IMAGES.runtime),
  };
}

/**
 * Is this image ours (then the container runs a `kthena` subcommand)? Upstream's downloader and runtime images
 * take the same flags without a subcommand, so an override with them keeps upstream's args unchanged.
 */
export function isKthenaImage(image: string): boolean {
  const repo = image.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
  return repo === 'ghcr.io/kthena-ts/kthena' || repo === 'kthena-ts/kthena';
}
