// Server-side printing: meta.k8s.io/v1 Table conversion. Built-in printers reproduce the columns of
// kube-apiserver's printers; custom resources use additionalPrinterColumns (JSONPath cells).
import { age, humanDuration } from '../../kube/index.js';
import { evalJsonPath } from './jsonpath.js';
import type { ColumnDefinition, ResourceType, TableConvertor } from './types.js';
import type { Obj } from './util.js';

const NAME_DESC =
  'Name must be unique within a namespace. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
const AGE_DESC =
  'CreationTimestamp is a timestamp representing the server time when this object was created. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

function col(name: string, type = 'string', priority = 0, format = '', description = ''): ColumnDefinition {
  return { name, type, format, description: description || name, priority };
}
const NAME_COL = col('Name', 'string', 0, 'name', NAME_DESC);
const AGE_COL = col('Age', 'string', 0, '', AGE_DESC);

export { age, humanDuration } from '../../kube/index.js';

function simple(columns: ColumnDefinition[], cells: (o: Obj, now: number) => unknown[]): TableConvertor {
  return { columns: () => columns, cells: (o, _v, now) => cells(o, now) };
}

export const defaultTable: TableConvertor = simple([NAME_COL, col('Created At', 'date', 0, '', AGE_DESC)], (o) => [
  o.metadata.name,
  o.metadata.creationTimestamp ?? null,
]);

export const namespaceTable = simple([NAME_COL, col('Status'), AGE_COL], (o, now) => [
  o.metadata.name,
  o.status?.phase ?? '',
  age(o.metadata.creationTimestamp, now),
]);

export const configMapTable = simple([NAME_COL, col('Data', 'integer'), AGE_COL], (o, now) => [
  o.metadata.name,
  Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length,
  age(o.metadata.creationTimestamp, now),
]);

export const secretTable = simple([NAME_COL, col('Type'), col('Data', 'integer'), AGE_COL], (o, now) => [
  o.metadata.name,
  o.type ?? 'Opaque',
  Object.keys(o.data ?? {}).length,
  age(o.metadata.creationTimestamp, now),
]);

export const leaseTable = simple([NAME_COL, col('Holder'), AGE_COL], (o, now) => [
  o.metadata.name,
  o.spec?.holderIdentity ?? '',
  age(o.metadata.creationTimestamp, now),
]);

export const serviceAccountTable = simple([NAME_COL, col('Secrets', 'integer'), AGE_COL], (o, now) => [
  o.metadata.name,
  (o.secrets ?? []).length,
  age(o.metadata.creationTimestamp, now),
]);

export const crdTable = simple([NAME_COL, col('Created At', 'date')], (o) => [
  o.metadata.name,
  o.metadata.creationTimestamp,
]);

export const controllerRevisionTable = simple(
  [NAME_COL, col('Controller'), col('Revision', 'integer'), AGE_COL],
  (o, now) => {
    const owner = (o.metadata.ownerReferences ?? []).find((r: Obj) => r.controller);
    const gk = owner ? `${owner.kind.toLowerCase()}.${String(owner.apiVersion).split('/')[0]}` : '';
    return [
      o.metadata.name,
      owner ? `${gk.replace(/\.v1$/, '')}/${owner.name}` : '<none>',
      o.revision ?? 0,
      age(o.metadata.creationTimestamp, now),
    ];
  },
);

export const priorityClassTable = simple(
  [NAME_COL, col('Value', 'integer'), col('Global-Default', 'boolean'), col('PreemptionPolicy'), AGE_COL],
  (o, now) => [
    o.metadata.name,
    o.value ?? 0,
    !!o.globalDefault,
    o.preemptionPolicy ?? 'PreemptLowerPriority',
    age(o.metadata.creationTimestamp, now),
  ],
);

function portsOf(ports: Obj[] | undefined): string {
  if (!ports?.length) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

export const serviceTable = simple(
  [NAME_COL, col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), AGE_COL, col('Selector', 'string', 1)],
  (o, now) => [
    o.metadata.name,
    o.spec?.type ?? 'ClusterIP',
    o.spec?.clusterIP ?? '<none>',
    (o.spec?.externalIPs ?? []).join(',') || '<none>',
    portsOf(o.spec?.ports),
    age(o.metadata.creationTimestamp, now),
    Object.entries(o.spec?.selector ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',') || '<none>',
  ],
);

export const endpointsTable = simple([NAME_COL, col('Endpoints'), AGE_COL], (o, now) => {
  const eps: string[] = [];
  for (const s of o.subsets ?? [])
    for (const a of s.addresses ?? []) for (const p of s.ports ?? [{}]) eps.push(p.port ? `${a.ip}:${p.port}` : a.ip);
  const shown = eps.slice(0, 3).join(',') + (eps.length > 3 ? ` + ${eps.length - 3} more...` : '');
  return [o.metadata.name, shown || '<none>', age(o.metadata.creationTimestamp, now)];
});

export const endpointSliceTable = simple(
  [NAME_COL, col('AddressType'), col('Ports'), col('Endpoints'), AGE_COL],
  (o, now) => {
    const addrs = (o.endpoints ?? []).flatMap((e: Obj) => e.addresses ?? []);
    return [
      o.metadata.name,
      o.addressType ?? '',
      (o.ports ?? []).map((p: Obj) => String(p.port)).join(',') || '<unset>',
      addrs.slice(0, 3).join(',') + (addrs.length > 3 ? ` + ${addrs.length - 3} more...` : '') || '<unset>',
      age(o.metadata.creationTimestamp, now),
    ];
  },
);

export const eventTable = simple(
  [
    col('Last Seen'),
    col('Type'),
    col('Reason'),
    col('Object'),
    col('Subobject', 'string', 1),
    col('Source', 'string', 1),
    col('Message'),
    col('First Seen', 'string', 1),
    col('Count', 'integer', 1),
    col('Name', 'string', 1, 'name'),
  ],
  (o, now) => {
    const last = o.lastTimestamp ?? o.eventTime ?? o.series?.lastObservedTime ?? o.metadata.creationTimestamp;
    const first = o.firstTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp;
    const io = o.involvedObject ?? {};
    const src = o.source?.component
      ? `${o.source.component}${o.source.host ? `, ${o.source.host}` : ''}`
      : (o.reportingComponent ?? '');
    return [
      age(last, now),
      o.type ?? '',
      o.reason ?? '',
      `${String(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`,
      io.fieldPath ?? '',
      src,
      o.message ?? '',
      age(first, now),
      o.count ?? 1,
      o.metadata.name,
    ];
  },
);

export const nodeTable = simple(
  [
    NAME_COL,
    col('Status'),
    col('Roles'),
    AGE_COL,
    col('Version'),
    col('Internal-IP', 'string', 1),
    col('External-IP', 'string', 1),
    col('OS-Image', 'string', 1),
    col('Kernel-Version', 'string', 1),
    col('Container-Runtime', 'string', 1),
  ],
  (o, now) => {
    const conds: Obj[] = o.status?.conditions ?? [];
    const statuses: string[] = [];
    for (const c of conds) {
      if (c.status === 'True') statuses.push(c.type);
      else if (c.type === 'Ready') statuses.push('NotReady');
    }
    if (statuses.length === 0) statuses.push('Unknown');
    if (o.spec?.unschedulable) statuses.push('SchedulingDisabled');
    const roles = Object.keys(o.metadata.labels ?? {})
      .filter((k) => k.startsWith('node-role.kubernetes.io/'))
      .map((k) => k.slice('node-role.kubernetes.io/'.length))
      .filter(Boolean)
      .sort();
    const addr = (t: string) => (o.status?.addresses ?? []).find((a: Obj) => a.type === t)?.address ?? '<none>';
    const info = o.status?.nodeInfo ?? {};
    return [
      o.metadata.name,
      statuses.join(','),
      roles.length ? roles.join(',') : '<none>',
      age(o.metadata.creationTimestamp, now),
      info.kubeletVersion ?? '',
      addr('InternalIP'),
      addr('ExternalIP'),
      info.osImage ?? '<unknown>',
      info.kernelVersion ?? '<unknown>',
      info.containerRuntimeVersion ?? '<unknown>',
    ];
  },
);

/** The STATUS column of `kubectl get pods`, following the kubelet-facing rules of printPod. */
export function podStatusReason(o: Obj): string {
  const st = o.status ?? {};
  let reason: string = st.reason || st.phase || '';
  let initializing = false;
  const inits: Obj[] = st.initContainerStatuses ?? [];
  const initCount = (o.spec?.initContainers ?? []).length;
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i];
    const t = c.state?.terminated;
    const w = c.state?.waiting;
    if (t && t.exitCode === 0) continue;
    if (t) {
      reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    } else if (w?.reason && w.reason !== 'PodInitializing') reason = `Init:${w.reason}`;
    else reason = `Init:${i}/${initCount}`;
    initializing = true;
    break;
  }
  if (!initializing) {
    let hasRunning = false;
    const cs: Obj[] = st.containerStatuses ?? [];
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i];
      const w = c.state?.waiting;
      const t = c.state?.terminated;
      if (w?.reason) reason = w.reason;
      else if (t?.reason) reason = t.reason;
      else if (t) reason = t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`;
      else if (c.ready && c.state?.running) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) {
      const ready = (st.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True');
      reason = ready ? 'Running' : 'NotReady';
    }
  }
  if (o.metadata.deletionTimestamp) reason = st.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

export const podTable = simple(
  [
    NAME_COL,
    col('Ready'),
    col('Status'),
    col('Restarts'),
    AGE_COL,
    col('IP', 'string', 1),
    col('Node', 'string', 1),
    col('Nominated Node', 'string', 1),
    col('Readiness Gates', 'string', 1),
  ],
  (o, now) => {
    const cs: Obj[] = o.status?.containerStatuses ?? [];
    const total = (o.spec?.containers ?? []).length;
    const ready = cs.filter((c) => c.ready).length;
    let restarts = 0;
    let lastRestart = 0;
    for (const c of cs) {
      restarts += c.restartCount ?? 0;
      const fin = c.lastState?.terminated?.finishedAt;
      if (fin) lastRestart = Math.max(lastRestart, Date.parse(fin) || 0);
    }
    const gates: Obj[] = o.spec?.readinessGates ?? [];
    const gateText = gates.length
      ? `${gates.filter((g) => (o.status?.conditions ?? []).some((c: Obj) => c.type === g.conditionType && c.status === 'True')).length}/${gates.length}`
      : '<none>';
    return [
      o.metadata.name,
      `${ready}/${total}`,
      podStatusReason(o),
      restarts > 0 && lastRestart > 0 ? `${restarts} (${humanDuration(now - lastRestart)} ago)` : String(restarts),
      age(o.metadata.creationTimestamp, now),
      o.status?.podIP || '<none>',
      o.spec?.nodeName || '<none>',
      o.status?.nominatedNodeName || '<none>',
      gateText,
    ];
  },
);

/** Table convertor for a custom resource version, from the CRD's additionalPrinterColumns. */
export function crTable(t: ResourceType): TableConvertor {
  const colsFor = (version: string): Obj[] => {
    const c = t.crd?.columns[version];
    return c && c.length > 0
      ? c
      : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: AGE_DESC }];
  };
  return {
    columns(version) {
      return [
        NAME_COL,
        ...colsFor(version).map((c) =>
          col(c.name, c.type ?? 'string', c.priority ?? 0, c.format ?? '', c.description ?? c.name),
        ),
      ];
    },
    cells(o, version, now) {
      const cells: unknown[] = [o.metadata?.name];
      for (const c of colsFor(version)) {
        let vals: unknown[];
        try {
          vals = evalJsonPath(o, c.jsonPath);
        } catch {
          vals = [];
        }
        if (vals.length === 0) {
          cells.push(null);
          continue;
        }
        if (c.type === 'date') {
          const v = vals[0];
          const t2 = typeof v === 'string' ? Date.parse(v) : Number.NaN;
          cells.push(Number.isNaN(t2) ? '<invalid>' : humanDuration(now - t2));
          continue;
        }
        if (vals.length === 1) {
          const v = vals[0];
          cells.push(typeof v === 'object' && v !== null ? JSON.stringify(v) : v);
        } else cells.push(vals.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(' '));
      }
      return cells;
    },
  };
}

const intOrString = (v: unknown) => (v === undefined || v === null ? 'N/A' : String(v));
export const pdbTable = simple(
  [NAME_COL, col('Min Available'), col('Max Unavailable'), col('Allowed Disruptions', 'integer'), AGE_COL],
  (o, now) => [
    o.metadata.name,
    intOrString(o.spec?.minAvailable),
    intOrString(o.spec?.maxUnavailable),
    o.status?.disruptionsAllowed ?? 0,
    age(o.metadata.creationTimestamp, now),
  ],
);

export const deploymentTable = simple(
  [NAME_COL, col('Ready'), col('Up-to-date', 'integer'), col('Available', 'integer'), AGE_COL],
  (o, now) => [
    o.metadata.name,
    `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 1}`,
    o.status?.updatedReplicas ?? 0,
    o.status?.availableReplicas ?? 0,
    age(o.metadata.creationTimestamp, now),
  ],
);

export const replicaSetTable = simple(
  [NAME_COL, col('Desired', 'integer'), col('Current', 'integer'), col('Ready', 'integer'), AGE_COL],
  (o, now) => [
    o.metadata.name,
    o.spec?.replicas ?? 1,
    o.status?.replicas ?? 0,
    o.status?.readyReplicas ?? 0,
    age(o.metadata.creationTimestamp, now),
  ],
);
