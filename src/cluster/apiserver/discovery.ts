// Legacy (unaggregated) discovery documents and the minimal OpenAPI v3 that kubectl needs to
// validate (`fieldValidation` advertised on PATCH) — see reference §3.
import { createHash } from 'node:crypto';
import type { Registry } from './registry.js';
import { groupVersion, type ResourceType } from './types.js';
import type { Obj } from './util.js';

export function apiVersions(serverAddress: string): Obj {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDoc(g: { name: string; versions: string[] }): Obj {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
  return { name: g.name, versions, preferredVersion: versions[0] };
}

export function apiGroupList(reg: Registry): Obj {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: reg.groups().map(groupDoc) };
}

export function apiGroup(reg: Registry, name: string): Obj | undefined {
  const g = reg.groups().find((x) => x.name === name);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(g) } : undefined;
}

export function apiResourceList(reg: Registry, group: string, version: string): Obj | undefined {
  const types = reg.typesIn(group, version);
  if (types.length === 0) return undefined;
  const resources: Obj[] = [];
  for (const t of types) {
    const main: Obj = {
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs,
    };
    if (t.shortNames.length) main.shortNames = t.shortNames;
    if (t.categories.length) main.categories = t.categories;
    main.storageVersionHash = createHash('sha256')
      .update(`${t.group}/${t.storageVersion}/${t.kind}`)
      .digest('base64')
      .slice(0, 11);
    const subs: Obj[] = [];
    for (const s of t.extraSubresources)
      subs.push({
        name: `${t.plural}/${s.name}`,
        singularName: '',
        namespaced: t.namespaced,
        kind: s.kind,
        verbs: s.verbs,
        ...(s.group !== undefined ? { group: s.group, version: s.version } : {}),
      });
    if (t.scale)
      subs.push({
        name: `${t.plural}/scale`,
        singularName: '',
        namespaced: t.namespaced,
        group: 'autoscaling',
        version: 'v1',
        kind: 'Scale',
        verbs: ['get', 'patch', 'update'],
      });
    if (t.status)
      subs.push({
        name: `${t.plural}/status`,
        singularName: '',
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: ['get', 'patch', 'update'],
      });
    subs.sort((a, b) => (a.name < b.name ? -1 : 1));
    resources.push(main, ...subs);
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion(group, version), resources };
}

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** The OpenAPI v3 document of one group-version (paths with PATCH + fieldValidation, CRD schemas). */
export function openApiGroupVersion(reg: Registry, group: string, version: string): Obj | undefined {
  const types = reg.typesIn(group, version);
  if (types.length === 0) return undefined;
  const paths: Obj = {};
  const schemas: Obj = {};
  const fieldValidation = {
    name: 'fieldValidation',
    in: 'query',
    description:
      'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.',
    schema: { type: 'string', uniqueItems: true },
  };
  const dryRun = { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } };
  const fieldManager = { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } };
  for (const t of types) {
    const gvk = { group: t.group, version, kind: t.kind };
    const schemaName = schemaNameOf(t, version);
    const base = `/${gvPath(group, version)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}`;
    const ref = { $ref: `#/components/schemas/${schemaName}` };
    const body = {
      content: { 'application/json': { schema: ref }, 'application/yaml': { schema: ref } },
    };
    const patchBody = {
      content: {
        'application/json-patch+json': { schema: { type: 'object' } },
        'application/merge-patch+json': { schema: { type: 'object' } },
        'application/apply-patch+yaml': { schema: { type: 'object' } },
      },
    };
    const ok = { '200': { description: 'OK', content: { 'application/json': { schema: ref } } } };
    paths[base] = {
      get: { 'x-kubernetes-action': 'list', 'x-kubernetes-group-version-kind': gvk, responses: ok },
      post: {
        'x-kubernetes-action': 'post',
        'x-kubernetes-group-version-kind': gvk,
        parameters: [dryRun, fieldManager, fieldValidation],
        requestBody: body,
        responses: ok,
      },
    };
    paths[`${base}/{name}`] = {
      get: { 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': gvk, responses: ok },
      put: {
        'x-kubernetes-action': 'put',
        'x-kubernetes-group-version-kind': gvk,
        parameters: [dryRun, fieldManager, fieldValidation],
        requestBody: body,
        responses: ok,
      },
      patch: {
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk,
        parameters: [
          dryRun,
          fieldManager,
          fieldValidation,
          { name: 'force', in: 'query', schema: { type: 'boolean', uniqueItems: true } },
        ],
        requestBody: patchBody,
        responses: ok,
      },
      delete: { 'x-kubernetes-action': 'delete', 'x-kubernetes-group-version-kind': gvk, responses: ok },
    };
    if (t.status) {
      paths[`${base}/{name}/status`] = {
        patch: {
          'x-kubernetes-action': 'patch',
          'x-kubernetes-group-version-kind': gvk,
          parameters: [dryRun, fieldManager, fieldValidation],
          requestBody: patchBody,
          responses: ok,
        },
      };
    }
    const crdSchema = t.crd?.schemas[version];
    const s: Obj = crdSchema
      ? structuredClone(crdSchema)
      : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    s['x-kubernetes-group-version-kind'] = [gvk];
    s.properties = {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      ...(s.properties ?? {}),
    };
    schemas[schemaName] = s;
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0-localcp' },
    paths,
    components: { schemas },
  };
}

function schemaNameOf(t: ResourceType, version: string): string {
  const rev = t.group.split('.').reverse().join('.');
  return t.group ? `${rev}.${version}.${t.kind}` : `io.k8s.api.core.${version}.${t.kind}`;
}

/** `/openapi/v3`: the index of group-version documents with content hashes. */
export function openApiIndex(reg: Registry): Obj {
  const paths: Obj = {};
  const add = (group: string, version: string) => {
    const doc = openApiGroupVersion(reg, group, version);
    if (!doc) return;
    const hash = createHash('sha512').update(JSON.stringify(doc)).digest('hex').slice(0, 64).toUpperCase();
    const p = gvPath(group, version);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash}` };
  };
  add('', 'v1');
  for (const g of reg.groups()) for (const v of g.versions) add(g.name, v);
  return { paths };
}
