import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { crdSchemas, generateCrds, KINDS, renderCrdFiles, structuralProblems } from './index.js';

const CRD_DIR = join(import.meta.dirname, '..', '..', 'deploy', 'crds');

test('deploy/crds holds exactly what the generator produces (run `kthena crds --out-dir deploy/crds`)', () => {
  const expected = renderCrdFiles();
  const committed = readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml'));
  assert.deepEqual(committed.sort(), [...expected.keys()].sort());
  for (const [name, text] of expected) {
    assert.equal(readFileSync(join(CRD_DIR, name), 'utf8'), text, `${name} is stale`);
  }
});

test('one CRD per kind, each a CustomResourceDefinition with status subresource and the right names', () => {
  const crds = generateCrds() as any[];
  assert.equal(crds.length, 6);
  for (const crd of crds) {
    assert.equal(crd.apiVersion, 'apiextensions.k8s.io/v1');
    assert.equal(crd.kind, 'CustomResourceDefinition');
    const info = Object.values(KINDS).find((k) => k.kind === crd.spec.names.kind)!;
    assert.equal(crd.metadata.name, `${info.plural}.${info.group}`);
    assert.equal(crd.spec.scope, 'Namespaced');
    const v = crd.spec.versions[0];
    assert.deepEqual(v.subresources.status, {});
    assert.equal(v.storage, true);
    assert.ok(v.additionalPrinterColumns.some((c: any) => c.name === 'Age'));
  }
  const ms = crds.find((c) => c.spec.names.kind === 'ModelServing');
  assert.deepEqual(ms.spec.versions[0].subresources.scale, {
    specReplicasPath: '.spec.replicas',
    statusReplicasPath: '.status.replicas',
    labelSelectorPath: '.status.labelSelector',
  });
});

test('every CRD schema is structural (committed files included)', () => {
  for (const [kind, schema] of Object.entries(crdSchemas)) {
    assert.deepEqual(structuralProblems(schema), [], kind);
  }
  // Our own CRDs, plus the Volcano CRDs the local control plane ships (deploy/crds/volcano/).
  const files = [
    ...readdirSync(CRD_DIR).map((f) => join(CRD_DIR, f)),
    ...readdirSync(join(CRD_DIR, 'volcano')).map((f) => join(CRD_DIR, 'volcano', f)),
  ].filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 9, `found ${files.length} CRD files`);
  for (const f of files) {
    const crd = parse(readFileSync(f, 'utf8'));
    for (const v of crd.spec.versions) {
      assert.deepEqual(structuralProblems(v.schema.openAPIV3Schema), [], `${f} ${v.name}`);
    }
  }
});

test('the structural check catches what the API server rejects', () => {
  assert.match(structuralProblems({ type: 'object', properties: { a: {} } }).join(), /a: type is missing/);
  assert.match(
    structuralProblems({
      type: 'object',
      properties: { a: { type: 'string' } },
      additionalProperties: { type: 'string' },
    }).join(),
    /mutually exclusive/,
  );
  assert.match(structuralProblems({ type: 'object', properties: { a: { $ref: '#/x' } } }).join(), /\$ref/);
  assert.match(
    structuralProblems({ type: 'object', properties: { a: { type: 'string', const: 'x' } } }).join(),
    /const/,
  );
  assert.deepEqual(
    structuralProblems({ type: 'object', properties: { a: { 'x-kubernetes-preserve-unknown-fields': true } } }),
    [],
  );
  assert.match(
    structuralProblems({
      type: 'array',
      items: { type: 'object', properties: { k: { type: 'string' } } },
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['k'],
    }).join(),
    /must be required or defaulted/,
  );
});

test('CEL rules upstream has are carried as x-kubernetes-validations', () => {
  const text = JSON.stringify(crdSchemas);
  for (const msg of [
    'ModelName and LoraAdapters cannot both be empty',
    'exactly one of modelServerName or externalModelProviderName must be set',
    'roles name must be unique',
    'minRoleReplicas is immutable',
    'gangPolicy is required once set',
    'numeratorRole and denominatorRole must differ',
  ]) {
    assert.ok(text.includes(msg), msg);
  }
});
