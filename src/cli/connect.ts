// The Kubernetes connection of the subcommands that talk to an API server (get, describe, create, rollout):
// the same flags everywhere (--kubeconfig, --context, -n) and errors a user can act on — the server's own
// message for API errors, "cannot reach" naming the server for connection failures.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { KubeApiError, KubeClient } from '../kube/index.js';

export interface ConnOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** A command-line error: the message is printed as is (no stack) and the exit status is non-zero. */
export class CliError extends Error {
  override name = 'CliError';
}

/** A client from --kubeconfig, else $KUBECONFIG, else ~/.kube/config (or in-cluster), as kubectl resolves it. */
export function connect(o: ConnOptions): KubeClient {
  const kubeconfig = o.kubeconfig ?? process.env.KUBECONFIG;
  try {
    if (kubeconfig) {
      // $KUBECONFIG may list several files (kubectl merges them); we read the first, as client-node does.
      const first = kubeconfig.split(':').find((p) => p !== '') ?? kubeconfig;
      const path = resolve(first);
      if (!existsSync(path))
        throw new CliError(`kubeconfig ${path} does not exist (from ${o.kubeconfig ? '--kubeconfig' : '$KUBECONFIG'})`);
      return KubeClient.fromKubeconfig(path, o.context);
    }
    return KubeClient.fromKubeconfig(undefined, o.context);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot load the kubeconfig: ${(err as Error).message}`);
  }
}

export function namespaceOf(o: ConnOptions, client: KubeClient): string {
  return o.namespace ?? client.defaultNamespace ?? 'default';
}

/** The server's own message for API errors (`modelservings... "x" not found`); "cannot reach" for dead servers. */
export function serverMessage(err: unknown, server?: string): Error {
  if (err instanceof KubeApiError) {
    const body = err.body as { message?: unknown } | undefined;
    if (body && typeof body === 'object' && typeof body.message === 'string') return new CliError(body.message);
    return new CliError(err.message);
  }
  const code =
    (err as { code?: unknown; cause?: { code?: unknown } }).code ?? (err as { cause?: { code?: unknown } }).cause?.code;
  if (typeof code === 'string' && /^(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ECONNRESET|ETIMEDOUT|UND_ERR_)/.test(code))
    return new CliError(`cannot reach the API server${server ? ` at ${server}` : ''}: ${(err as Error).message}`);
  return err as Error;
}

/** Runs `fn` with a client, closing it afterwards, and turns API and connection errors into CliErrors. */
export async function withClient<T>(o: ConnOptions, fn: (c: KubeClient, ns: string) => Promise<T>): Promise<T> {
  const client = connect(o);
  try {
    return await fn(client, namespaceOf(o, client));
  } catch (err) {
    throw serverMessage(err, client.server);
  } finally {
    await client.destroy();
  }
}

/** --kubeconfig, --context and -n, as every API-talking subcommand takes them. */
export function connOptions(
  cmd: Command,
  namespaceHelp = 'namespace (default: the kubeconfig context namespace, else default)',
): Command {
  return cmd
    .option('-n, --namespace <ns>', namespaceHelp)
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use');
}
