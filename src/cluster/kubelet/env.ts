// A container's environment as the kubelet builds it: envFrom (ConfigMaps, Secrets), then env with values,
// downward-API fieldRefs, resourceFieldRefs and ConfigMap/Secret key refs, with $(VAR) expansion.
import type { ConfigMap, Container, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../scheduler/quantity.js';

export interface EnvSources {
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
}

export interface PodAddresses {
  podIP: string;
  hostIP: string;
}

/** Thrown for what a real kubelet reports as CreateContainerConfigError. */
export class ContainerConfigError extends Error {}

/** Kubernetes $(VAR) expansion: $$ escapes, unknown references are left as written. */
export function expandVars(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && Object.hasOwn(env, name) ? env[name] : m;
  });
}

const BRACKET = /^metadata\.(labels|annotations)\['(.+)'\]$/;

/** Downward API field paths a container env var may reference. */
export function fieldRefValue(pod: Pod, path: string, addr: PodAddresses): string {
  const m = BRACKET.exec(path);
  if (m) return (m[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations)?.[m[2]] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? 'default';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
    case 'status.podIPs':
      return addr.podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return addr.hostIP;
    default:
      throw new ContainerConfigError(`unsupported fieldRef fieldPath "${path}"`);
  }
}

function resourceFieldValue(
  pod: Pod,
  defaultContainer: Container,
  ref: NonNullable<NonNullable<Container['env']>[number]['valueFrom']>['resourceFieldRef'],
): string {
  if (!ref) return '';
  const c = ref.containerName ? pod.spec?.containers.find((x) => x.name === ref.containerName) : defaultContainer;
  if (!c) throw new ContainerConfigError(`resourceFieldRef names unknown container "${ref.containerName}"`);
  const [kind, resource] = ref.resource.split(/\.(.*)/s);
  const source = kind === 'limits' ? c.resources?.limits : c.resources?.requests;
  const raw = (source as Record<string, string> | undefined)?.[resource];
  if (raw === undefined) return '0';
  const divisor = ref.divisor !== undefined ? parseQuantity(String(ref.divisor)) : 1;
  return String(Math.ceil(parseQuantity(raw) / (divisor || 1)));
}

function decodeSecret(s: Secret, key: string): string | undefined {
  const b64 = s.data?.[key];
  if (b64 !== undefined) return Buffer.from(b64, 'base64').toString('utf8');
  return s.stringData?.[key];
}

/** Builds the container's environment (only what the pod declares; the caller adds the process basics). */
export async function resolveEnv(
  pod: Pod,
  container: Container,
  addr: PodAddresses,
  sources: EnvSources,
): Promise<Record<string, string>> {
  const ns = pod.metadata?.namespace ?? 'default';
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const cm = await sources.getConfigMap(ns, from.configMapRef.name ?? '');
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${from.configMapRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(cm.data ?? {})) env[prefix + k] = v;
    } else if (from.secretRef) {
      const s = await sources.getSecret(ns, from.secretRef.name ?? '');
      if (!s) {
        if (from.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${from.secretRef.name}" not found`);
      }
      for (const k of Object.keys({ ...(s.data ?? {}), ...(s.stringData ?? {}) }))
        env[prefix + k] = decodeSecret(s, k) ?? '';
    }
  }
  for (const e of container.env ?? []) {
    const vf = e.valueFrom;
    if (!vf) {
      env[e.name] = expandVars(e.value ?? '', env);
    } else if (vf.fieldRef) {
      env[e.name] = fieldRefValue(pod, vf.fieldRef.fieldPath, addr);
    } else if (vf.resourceFieldRef) {
      env[e.name] = resourceFieldValue(pod, container, vf.resourceFieldRef);
    } else if (vf.configMapKeyRef) {
      const ref = vf.configMapKeyRef;
      const cm = await sources.getConfigMap(ns, ref.name ?? '');
      const v = cm?.data?.[ref.key];
      if (v === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(
          cm ? `couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name}` : `configmap "${ref.name}" not found`,
        );
      }
      env[e.name] = v;
    } else if (vf.secretKeyRef) {
      const ref = vf.secretKeyRef;
      const s = await sources.getSecret(ns, ref.name ?? '');
      const v = s ? decodeSecret(s, ref.key) : undefined;
      if (v === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(
          s ? `couldn't find key ${ref.key} in Secret ${ns}/${ref.name}` : `secret "${ref.name}" not found`,
        );
      }
      env[e.name] = v;
    }
  }
  return env;
}
