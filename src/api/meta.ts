// ObjectMeta and the small metav1/core reference types every kind uses.
import { Bool, Enum, Int64, kubeType, Opaque, type Static, Str, StringMap, Time, Type } from './schema-helpers.js';

export const OwnerReference = Type.Object({
  apiVersion: Str(),
  kind: Str(),
  name: Str(),
  uid: Str(),
  controller: Type.Optional(Bool()),
  blockOwnerDeletion: Type.Optional(Bool()),
});
export type OwnerReference = Static<typeof OwnerReference>;

/** metav1.ObjectMeta as clients write and read it. In a CRD it is only `type: object` (the API server owns it). */
export const ObjectMeta = Type.Object({
  name: Type.Optional(Str()),
  generateName: Type.Optional(Str()),
  namespace: Type.Optional(Str()),
  labels: Type.Optional(StringMap()),
  annotations: Type.Optional(StringMap()),
  uid: Type.Optional(Str()),
  resourceVersion: Type.Optional(Str()),
  generation: Type.Optional(Int64()),
  creationTimestamp: Type.Optional(Type.Unsafe<string | null>({ type: 'string', format: 'date-time', nullable: true })),
  deletionTimestamp: Type.Optional(Time()),
  deletionGracePeriodSeconds: Type.Optional(Int64()),
  ownerReferences: Type.Optional(Type.Array(OwnerReference)),
  finalizers: Type.Optional(Type.Array(Str())),
  managedFields: Type.Optional(Type.Array(Opaque())),
  selfLink: Type.Optional(Str()),
});
export type ObjectMeta = Static<typeof ObjectMeta>;

/** metav1.Condition. */
export const Condition = kubeType(
  'meta/v1 Condition',
  Type.Object({
    type: Str({ maxLength: 316 }),
    status: Enum(['True', 'False', 'Unknown'] as const),
    observedGeneration: Type.Optional(Int64({ minimum: 0 })),
    lastTransitionTime: Time(),
    reason: Str({ maxLength: 1024 }),
    message: Str({ maxLength: 32768 }),
  }),
);
export type Condition = Static<typeof Condition>;

/** core/v1 ObjectReference. */
export const ObjectReference = kubeType(
  'core/v1 ObjectReference',
  Type.Object({
    apiVersion: Type.Optional(Str()),
    kind: Type.Optional(Str()),
    name: Type.Optional(Str()),
    namespace: Type.Optional(Str()),
    uid: Type.Optional(Str()),
    resourceVersion: Type.Optional(Str()),
    fieldPath: Type.Optional(Str()),
  }),
);
export type ObjectReference = Static<typeof ObjectReference>;

/** core/v1 SecretKeySelector. */
export const SecretKeySelector = kubeType(
  'core/v1 SecretKeySelector',
  Type.Object({
    name: Type.Optional(Str()),
    key: Str(),
    optional: Type.Optional(Bool()),
  }),
);
export type SecretKeySelector = Static<typeof SecretKeySelector>;

export const LabelSelectorRequirement = Type.Object({
  key: Str(),
  operator: Enum(['In', 'NotIn', 'Exists', 'DoesNotExist'] as const),
  values: Type.Optional(Type.Array(Str())),
});

/** metav1.LabelSelector. */
export const LabelSelector = kubeType(
  'meta/v1 LabelSelector',
  Type.Object({
    matchLabels: Type.Optional(StringMap()),
    matchExpressions: Type.Optional(Type.Array(LabelSelectorRequirement)),
  }),
);
export type LabelSelector = Static<typeof LabelSelector>;
