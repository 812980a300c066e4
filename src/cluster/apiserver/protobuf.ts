// A minimal decoder for Kubernetes protobuf request bodies. kubectl's typed generators
// (`kubectl create namespace|configmap|secret|serviceaccount`) send built-in objects as
// `application/vnd.kubernetes.protobuf` without a JSON fallback, so the server decodes these few
// kinds (envelope "k8s\0" + runtime.Unknown) into JSON objects. Responses are always JSON.
import { errors } from './errors.js';
import type { Obj } from './util.js';

type Field = { no: number; wire: number; value: bigint | Buffer };

function readVarint(buf: Buffer, pos: { i: number }): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos.i >= buf.length) throw new Error('truncated varint');
    const b = buf[pos.i++];
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return result;
    shift += 7n;
    if (shift > 70n) throw new Error('varint too long');
  }
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  const pos = { i: 0 };
  while (pos.i < buf.length) {
    const key = Number(readVarint(buf, pos));
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, wire, value: readVarint(buf, pos) });
    else if (wire === 2) {
      const len = Number(readVarint(buf, pos));
      if (pos.i + len > buf.length) throw new Error('truncated field');
      out.push({ no, wire, value: buf.subarray(pos.i, pos.i + len) });
      pos.i += len;
    } else if (wire === 1) {
      out.push({ no, wire, value: buf.subarray(pos.i, pos.i + 8) });
      pos.i += 8;
    } else if (wire === 5) {
      out.push({ no, wire, value: buf.subarray(pos.i, pos.i + 4) });
      pos.i += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

function push(o: Obj, key: string, v: unknown): void {
  if (!Array.isArray(o[key])) o[key] = [];
  o[key].push(v);
}

const str = (f: Field) => (f.value as Buffer).toString('utf8');
const bytes = (f: Field) => f.value as Buffer;
const num = (f: Field) => Number(BigInt.asIntN(64, f.value as bigint));

function mapEntry(buf: Buffer): [string, Buffer] {
  let k = '';
  let v: Buffer = Buffer.alloc(0);
  for (const f of fields(buf)) {
    if (f.no === 1) k = str(f);
    else if (f.no === 2) v = bytes(f);
  }
  return [k, v];
}

function time(buf: Buffer): string {
  let seconds = 0;
  for (const f of fields(buf)) if (f.no === 1) seconds = num(f);
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

function objectMeta(buf: Buffer): Obj {
  const m: Obj = {};
  for (const f of fields(buf)) {
    switch (f.no) {
      case 1:
        m.name = str(f);
        break;
      case 2:
        m.generateName = str(f);
        break;
      case 3:
        m.namespace = str(f);
        break;
      case 5:
        m.uid = str(f);
        break;
      case 6:
        m.resourceVersion = str(f);
        break;
      case 7:
        m.generation = num(f);
        break;
      case 8:
        m.creationTimestamp = time(bytes(f));
        break;
      case 11: {
        const [k, v] = mapEntry(bytes(f));
        m.labels = { ...(m.labels ?? {}), [k]: v.toString('utf8') };
        break;
      }
      case 12: {
        const [k, v] = mapEntry(bytes(f));
        m.annotations = { ...(m.annotations ?? {}), [k]: v.toString('utf8') };
        break;
      }
      case 13: {
        const r: Obj = {};
        for (const g of fields(bytes(f))) {
          if (g.no === 1) r.kind = str(g);
          else if (g.no === 3) r.name = str(g);
          else if (g.no === 4) r.uid = str(g);
          else if (g.no === 5) r.apiVersion = str(g);
          else if (g.no === 6) r.controller = num(g) !== 0;
          else if (g.no === 7) r.blockOwnerDeletion = num(g) !== 0;
        }
        push(m, 'ownerReferences', r);
        break;
      }
      case 14:
        push(m, 'finalizers', str(f));
        break;
      default:
        break;
    }
  }
  return m;
}

function stringMap(target: Obj, key: string, f: Field, encode: 'utf8' | 'base64'): void {
  const [k, v] = mapEntry(bytes(f));
  target[key] = { ...(target[key] ?? {}), [k]: v.toString(encode) };
}

const DECODERS: Record<string, (body: Buffer, o: Obj) => void> = {
  'v1/Namespace': (b, o) => {
    for (const f of fields(b)) {
      if (f.no === 1) o.metadata = objectMeta(bytes(f));
      else if (f.no === 2) {
        const spec: Obj = {};
        for (const g of fields(bytes(f))) if (g.no === 1) push(spec, 'finalizers', str(g));
        o.spec = spec;
      }
    }
  },
  'v1/ConfigMap': (b, o) => {
    for (const f of fields(b)) {
      if (f.no === 1) o.metadata = objectMeta(bytes(f));
      else if (f.no === 2) stringMap(o, 'data', f, 'utf8');
      else if (f.no === 3) stringMap(o, 'binaryData', f, 'base64');
      else if (f.no === 4) o.immutable = num(f) !== 0;
    }
  },
  'v1/Secret': (b, o) => {
    for (const f of fields(b)) {
      if (f.no === 1) o.metadata = objectMeta(bytes(f));
      else if (f.no === 2) stringMap(o, 'data', f, 'base64');
      else if (f.no === 3) o.type = str(f);
      else if (f.no === 4) stringMap(o, 'stringData', f, 'utf8');
      else if (f.no === 5) o.immutable = num(f) !== 0;
    }
  },
  'v1/ServiceAccount': (b, o) => {
    for (const f of fields(b)) {
      if (f.no === 1) o.metadata = objectMeta(bytes(f));
      else if (f.no === 3) {
        for (const g of fields(bytes(f))) if (g.no === 1) push(o, 'imagePullSecrets', { name: str(g) });
      } else if (f.no === 4) o.automountServiceAccountToken = num(f) !== 0;
    }
  },
};

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';

/** Decodes a protobuf-encoded built-in object into JSON (400/415 when it cannot). */
export function decodeProtobuf(body: Buffer): Obj {
  if (body.length < 4 || body.subarray(0, 4).toString('latin1') !== 'k8s\0')
    throw errors.badRequest('protobuf body does not start with the Kubernetes envelope');
  let apiVersion = '';
  let kind = '';
  let raw: Buffer | undefined;
  try {
    for (const f of fields(body.subarray(4))) {
      if (f.no === 1) {
        for (const g of fields(bytes(f))) {
          if (g.no === 1) apiVersion = str(g);
          else if (g.no === 2) kind = str(g);
        }
      } else if (f.no === 2) raw = bytes(f);
    }
  } catch (e) {
    throw errors.badRequest(`cannot decode protobuf envelope: ${(e as Error).message}`);
  }
  const dec = DECODERS[`${apiVersion}/${kind}`];
  if (!dec || !raw) throw errors.unsupportedMediaType(PROTOBUF, ['application/json', 'application/yaml']);
  const o: Obj = { apiVersion, kind };
  try {
    dec(raw, o);
  } catch (e) {
    throw errors.badRequest(`cannot decode protobuf ${kind}: ${(e as Error).message}`);
  }
  return o;
}
