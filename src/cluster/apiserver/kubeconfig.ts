// Writes the kubeconfig of the local cluster atomically (tmp file + rename): readers that wait for
// the file to appear find it complete, and the server is already answering by then.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';

export const DEFAULT_KUBECONFIG = join(homedir(), '.kube', 'kthena-local.yaml');

/** `token`: the API server's bearer token (absent: a placeholder, for servers without authentication). */
export function kubeconfigYaml(server: string, name = 'kthena-local', token = 'kthena-local'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [{ name, cluster: { server } }],
    users: [{ name, user: { token } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: 'default' } }],
    'current-context': name,
  });
}

export async function writeKubeconfig(path: string, server: string, token?: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, kubeconfigYaml(server, undefined, token), { mode: 0o600 });
  await rename(tmp, path);
}
