// `demo-pod-tweaks`: sets runtimeClassName, merges annotations and appends env vars to every container.
import type { EnvVar } from 'kubernetes-types/core/v1.js';
import type { ModelServingPlugin, PluginFactory } from './types.js';

interface DemoPodTweaksConfig {
  runtimeClassName?: string;
  annotations?: Record<string, string>;
  env?: EnvVar[];
}

function parseConfig(config: unknown): DemoPodTweaksConfig {
  if (config === undefined || config === null) return {};
  if (typeof config !== 'object' || Array.isArray(config)) throw new Error('demo-pod-tweaks: config must be an object');
  const c = config as Record<string, unknown>;
  if (c.runtimeClassName !== undefined && typeof c.runtimeClassName !== 'string')
    throw new Error('demo-pod-tweaks: runtimeClassName must be a string');
  if (c.annotations !== undefined) {
    if (typeof c.annotations !== 'object' || c.annotations === null || Array.isArray(c.annotations))
      throw new Error('demo-pod-tweaks: annotations must be a map of strings');
    for (const v of Object.values(c.annotations))
      if (typeof v !== 'string') throw new Error('demo-pod-tweaks: annotations must be a map of strings');
  }
  if (c.env !== undefined) {
    if (!Array.isArray(c.env)) throw new Error('demo-pod-tweaks: env must be a list');
    for (const e of c.env)
      if (typeof e !== 'object' || e === null || typeof (e as EnvVar).name !== 'string')
        throw new Error('demo-pod-tweaks: every env entry needs a name');
  }
  return c as DemoPodTweaksConfig;
}

export const demoPodTweaks: PluginFactory = (name, rawConfig): ModelServingPlugin => {
  const config = parseConfig(rawConfig);
  return {
    name,
    onPodCreate(req) {
      const pod = req.pod;
      pod.spec ??= { containers: [] };
      if (config.runtimeClassName) pod.spec.runtimeClassName = config.runtimeClassName;
      if (config.annotations && Object.keys(config.annotations).length > 0) {
        pod.metadata ??= {};
        pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), ...config.annotations };
      }
      if (config.env && config.env.length > 0) {
        for (const c of [...pod.spec.containers, ...(pod.spec.initContainers ?? [])])
          c.env = [...(c.env ?? []), ...structuredClone(config.env)];
      }
    },
  };
};
