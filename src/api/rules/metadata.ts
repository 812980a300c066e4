// metadata checks the API server applies to every object: name/generateName, namespace, label syntax,
// annotation size.
import type { PathSeg, ProblemSink } from '../problems.js';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const MAX_ANNOTATIONS_BYTES = 256 * 1024;

export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}
export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}
/** DNS-1035 label: lowercase alphanumerics and '-', starting with a letter. */
export function isDns1035Label(s: string): boolean {
  return s.length <= 63 && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(s);
}

/** A qualified label/annotation key: optional DNS-subdomain prefix + '/' + name of ≤63 characters. */
export function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return `key ${JSON.stringify(key)} may contain at most one "/"`;
  const name = parts.length === 2 ? parts[1] : parts[0];
  if (parts.length === 2 && (parts[0] === '' || !isDns1123Subdomain(parts[0]))) {
    return `key prefix ${JSON.stringify(parts[0])} must be a lowercase DNS subdomain`;
  }
  if (name === '' || name.length > 63 || !LABEL_NAME.test(name)) {
    return `key ${JSON.stringify(key)}: the name part must be 1-63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

export function labelValueProblem(v: string): string | undefined {
  if (v.length > 63 || !LABEL_VALUE.test(v)) {
    return `label value ${JSON.stringify(v)} must be at most 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

export function metadataRules(meta: Record<string, unknown>, sink: ProblemSink): void {
  const name = meta.name;
  const generateName = meta.generateName;
  if ((name === undefined || name === '') && (generateName === undefined || generateName === '')) {
    sink.error('metadata.name', 'is required');
  } else if (typeof name === 'string' && name !== '' && !isDns1123Subdomain(name)) {
    sink.error(
      'metadata.name',
      `${JSON.stringify(name)} must be a lowercase DNS subdomain: at most 253 characters of a-z, 0-9, '-' and '.', starting and ending with a letter or digit`,
    );
  }
  const ns = meta.namespace;
  if (typeof ns === 'string' && ns !== '' && !isDns1123Label(ns)) {
    sink.error(
      'metadata.namespace',
      `${JSON.stringify(ns)} must be a lowercase DNS label (at most 63 characters of a-z, 0-9 and '-')`,
    );
  }
  const labels = meta.labels;
  if (labels && typeof labels === 'object' && !Array.isArray(labels)) {
    for (const [k, v] of Object.entries(labels)) {
      const path: PathSeg[] = ['metadata', 'labels', { key: k }];
      const kp = qualifiedNameProblem(k);
      if (kp) sink.error(path, kp);
      if (typeof v === 'string') {
        const vp = labelValueProblem(v);
        if (vp) sink.error(path, vp);
      }
    }
  }
  const annotations = meta.annotations;
  if (annotations && typeof annotations === 'object' && !Array.isArray(annotations)) {
    let size = 0;
    for (const [k, v] of Object.entries(annotations)) {
      const kp = qualifiedNameProblem(k);
      if (kp) sink.error(['metadata', 'annotations', { key: k }], kp);
      size += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
    }
    if (size > MAX_ANNOTATIONS_BYTES) {
      sink.error(
        'metadata.annotations',
        `total size ${size} bytes exceeds the limit of ${MAX_ANNOTATIONS_BYTES} bytes`,
      );
    }
  }
}
