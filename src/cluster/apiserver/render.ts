// Response bodies: lists, Tables (server-side printing) and PartialObjectMetadata.
import type { ApiCore } from './core.js';
import { defaultTable } from './tables.js';
import { groupVersion, type ResourceType } from './types.js';
import type { Obj } from './util.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function listBody(core: ApiCore, t: ResourceType, version: string, items: Obj[], meta: Obj): Obj {
  const out = items.map((o) => {
    if (!t.builtin) return core.serve(t, version, o);
    const { apiVersion: _a, kind: _k, ...rest } = o;
    return rest;
  });
  return { kind: t.listKind, apiVersion: groupVersion(t.group, version), metadata: meta, items: out };
}

function rowObject(
  core: ApiCore,
  t: ResourceType,
  version: string,
  o: Obj,
  include: IncludeObject,
  tableVersion: string,
): Obj | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return core.serve(t, version, o);
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${tableVersion}`, metadata: o.metadata };
}

export function tableBody(
  core: ApiCore,
  t: ResourceType,
  version: string,
  items: Obj[],
  meta: Obj,
  opts: { include: IncludeObject; tableVersion: string; noHeaders?: boolean },
): Obj {
  const conv = t.strategy.table ?? defaultTable;
  const now = core.now();
  const table: Obj = {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${opts.tableVersion}`,
    metadata: meta,
  };
  if (!opts.noHeaders) table.columnDefinitions = conv.columns(version);
  table.rows = items.map((o) => {
    const row: Obj = { cells: conv.cells(o, version, now) };
    const ro = rowObject(core, t, version, o, opts.include, opts.tableVersion);
    if (ro) row.object = ro;
    return row;
  });
  return table;
}

export function partialBody(_t: ResourceType, o: Obj, v: string): Obj {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${v}`, metadata: o.metadata };
}

export function partialListBody(items: Obj[], meta: Obj, v: string): Obj {
  return {
    kind: 'PartialObjectMetadataList',
    apiVersion: `meta.k8s.io/${v}`,
    metadata: meta,
    items: items.map((o) => ({ kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${v}`, metadata: o.metadata })),
  };
}
