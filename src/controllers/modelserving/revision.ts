// Revision hashes. Upstream hashes spec.template.roles (with each role's replicas and rolling-update knobs
// cleared) with FNV-32 and encodes the decimal with rand.SafeEncodeString. We do the same over a canonical
// JSON dump (sorted keys), so equal specs hash equally whatever the key order of the manifest. The values are
// not bit-identical to Go's (the Go hasher dumps Go structs), which only matters for adopting Go-made pods.
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import {
  ANNOTATION_CHANGE_CAUSE,
  API_VERSION,
  controllerRevisionName,
  KIND,
  LABEL_NAME,
  LABEL_REVISION,
} from './naming.js';
import type { ModelServing, Role } from './types.js';

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(s, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** k8s.io/apimachinery rand.SafeEncodeString: map each byte onto an alphabet without vowels. */
export function safeEncode(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) out += SAFE_ALPHABET[byte % SAFE_ALPHABET.length];
  return out;
}

export function hashObject(v: unknown): string {
  return safeEncode(String(fnv1a32(canonicalJson(v))));
}

/** A role with the fields that must not trigger a rollout cleared. */
export function stripRole(role: Role): Role {
  const { replicas: _r, maxUnavailable: _m, partition: _p, ...rest } = role;
  return rest as Role;
}

/** The ModelServing revision: changes only when a role's pod-shaping fields change. */
export function modelServingRevision(roles: Role[]): string {
  return hashObject(roles.map(stripRole));
}

/** The role template hash used by RoleRollingUpdate to find outdated role instances. */
export function roleTemplateHash(role: Role): string {
  return hashObject(stripRole(role));
}

/**
 * A ControllerRevision records the roles of a revision, so protected groups can be rebuilt from it later and
 * `kthena rollout undo` can go back to it. The ModelServing's `kubernetes.io/change-cause` is copied onto it.
 */
export function buildControllerRevision(
  ms: ModelServing,
  revision: string,
  roles: Role[],
  number = 1,
): ControllerRevision {
  const cause = ms.metadata.annotations?.[ANNOTATION_CHANGE_CAUSE];
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: controllerRevisionName(ms.metadata.name, revision),
      namespace: ms.metadata.namespace,
      labels: { [LABEL_NAME]: ms.metadata.name, [LABEL_REVISION]: revision },
      ...(cause !== undefined ? { annotations: { [ANNOTATION_CHANGE_CAUSE]: cause } } : {}),
      ownerReferences: [ownerReference(ms)],
    },
    data: { data: roles },
    revision: number,
  };
}

/** Roles stored in a ControllerRevision, or undefined when the data is not what we wrote. */
export function rolesFromControllerRevision(cr: ControllerRevision): Role[] | undefined {
  const data = (cr.data as { data?: unknown } | undefined)?.data;
  if (!Array.isArray(data)) return undefined;
  return data as Role[];
}

/**
 * A template that goes back to an older revision makes that revision the newest again (as a Deployment's
 * rollback renumbers the old ReplicaSet): the recorded ControllerRevision gets number `next` and the
 * ModelServing's current change-cause. Returns the object to write.
 */
export function renumberControllerRevision(cr: ControllerRevision, next: number, ms: ModelServing): ControllerRevision {
  const out = structuredClone(cr);
  out.revision = next;
  const cause = ms.metadata.annotations?.[ANNOTATION_CHANGE_CAUSE];
  if (cause !== undefined)
    out.metadata = { ...out.metadata, annotations: { ...out.metadata?.annotations, [ANNOTATION_CHANGE_CAUSE]: cause } };
  return out;
}

export function ownerReference(ms: ModelServing) {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: ms.metadata.name,
    uid: ms.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}
