// Secrets as the router's sources read them (the Kubernetes API, or `kind: Secret` manifests in --config-dir): decoded
// values for the provider credential store (src/router/providers/credentials.ts), which alone keeps them.

export interface SecretDoc {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  /** Decoded values (data is base64, stringData plain; stringData wins as in Kubernetes). */
  data: Map<string, string>;
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A Kubernetes Secret object (as listed/watched or as a manifest) → SecretDoc; errors never quote values. */
export function secretFromObject(o: unknown): { secret?: SecretDoc; error?: string } {
  if (!isObj(o) || !isObj(o.metadata) || typeof o.metadata.name !== 'string' || o.metadata.name === '')
    return { error: 'metadata.name: required' };
  const md = o.metadata;
  const data = new Map<string, string>();
  if (o.data !== undefined && !isObj(o.data)) return { error: 'data: must be a mapping' };
  if (o.stringData !== undefined && !isObj(o.stringData)) return { error: 'stringData: must be a mapping' };
  for (const [k, v] of Object.entries((o.data as Record<string, unknown> | undefined) ?? {})) {
    if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v.replace(/\s+/g, '')))
      return { error: `data.${k}: must be base64 text` };
    data.set(k, Buffer.from(v, 'base64').toString('utf8'));
  }
  for (const [k, v] of Object.entries((o.stringData as Record<string, unknown> | undefined) ?? {})) {
    if (typeof v !== 'string') return { error: `stringData.${k}: must be a string` };
    data.set(k, v);
  }
  const labels = isObj(md.labels) ? (md.labels as Record<string, string>) : {};
  return {
    secret: {
      namespace: typeof md.namespace === 'string' && md.namespace ? md.namespace : 'default',
      name: md.name as string,
      labels: { ...labels },
      data,
    },
  };
}
