// `kthena rollout history|undo modelserving/NAME`: revision history and rollback of a ModelServing, read from
// the ControllerRevisions the ModelServing controller records, against any Kubernetes API (--kubeconfig).
import type { Command } from 'commander';
import { REFS } from '../controllers/modelserving/controller.js';
import {
  currentRevision,
  formatHistory,
  formatRevision,
  history,
  parseTarget,
  planUndo,
  QUALIFIED,
  RolloutError,
} from '../controllers/modelserving/history.js';
import { LABEL_NAME } from '../controllers/modelserving/naming.js';
import type { ControllerRevision, ModelServing } from '../controllers/modelserving/types.js';
import { KubeApiError, type KubeClient } from '../kube/index.js';
import { intArg } from './args.js';
import { type ConnOptions, connOptions, serverMessage, withClient } from './connect.js';

async function load(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<{ ms: ModelServing; revisions: ControllerRevision[] }> {
  try {
    const ms = await client.get<ModelServing>(REFS.modelServings as never, name, namespace);
    const list = await client.list<ControllerRevision>(REFS.controllerRevisions as never, {
      namespace,
      labelSelector: `${LABEL_NAME}=${name}`,
    });
    return { ms, revisions: list.items };
  } catch (err) {
    throw serverMessage(err);
  }
}

export async function rolloutHistory(
  client: KubeClient,
  namespace: string,
  target: string[],
  revision?: number,
): Promise<string> {
  const name = parseTarget(target);
  const { ms, revisions } = await load(client, namespace, name);
  const entries = history(ms, revisions);
  if (revision !== undefined) return formatRevision(ms, entries, revision);
  return formatHistory(ms, entries);
}

export async function rolloutUndo(
  client: KubeClient,
  namespace: string,
  target: string[],
  toRevision = 0,
): Promise<string> {
  const name = parseTarget(target);
  // The controller writes the object's status while it works, which moves its resourceVersion: a conflict means
  // "read again and decide again", as kubectl's own read-modify-write commands do, a bounded number of times.
  for (let attempt = 1; ; attempt++) {
    try {
      return await undoOnce(client, namespace, name, toRevision);
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 409) || attempt >= 5) throw serverMessage(err);
    }
  }
}

async function undoOnce(client: KubeClient, namespace: string, name: string, toRevision: number): Promise<string> {
  const { ms, revisions } = await load(client, namespace, name);
  const decision = planUndo(ms, history(ms, revisions), toRevision);
  if (decision.kind === 'skip') return `${QUALIFIED}/${name} ${decision.message}\n`;
  // The resourceVersion makes this a compare-and-swap: an edit made since we read the object is not overwritten.
  const patch = {
    metadata: { resourceVersion: ms.metadata.resourceVersion },
    spec: { template: { roles: decision.roles } },
  };
  const updated = await client.patch<ModelServing>(REFS.modelServings as never, name, namespace, patch, 'merge');
  if (currentRevision(updated) !== history(ms, revisions).find((e) => e.number === decision.number)?.revision)
    throw new RolloutError(`rollback of ${name} did not restore revision ${decision.number}'s template`);
  return `${QUALIFIED}/${name} rolled back to revision ${decision.number}\n`;
}

async function print(text: Promise<string>): Promise<void> {
  process.stdout.write(await text);
}

export function register(program: Command): void {
  const rollout = program
    .command('rollout')
    .description('revision history and rollback of a ModelServing (ControllerRevisions)');
  connOptions(
    rollout
      .command('history')
      .description('list the revisions of modelserving/NAME, or show one with --revision')
      .argument('<resource...>', 'modelserving/NAME'),
  )
    .option('--revision <n>', 'show the template of this revision', intArg('--revision', 1, 2 ** 31 - 1))
    .action(async (target: string[], o: ConnOptions & { revision?: number }) =>
      print(withClient(o, (c, ns) => rolloutHistory(c, ns, target, o.revision))),
    );
  connOptions(
    rollout
      .command('undo')
      .description('roll modelserving/NAME back to the previous revision, or to --to-revision')
      .argument('<resource...>', 'modelserving/NAME'),
  )
    .option(
      '--to-revision <n>',
      'revision to go back to (0 = the previous one)',
      intArg('--to-revision', 0, 2 ** 31 - 1),
      0,
    )
    .action(async (target: string[], o: ConnOptions & { toRevision: number }) =>
      print(withClient(o, (c, ns) => rolloutUndo(c, ns, target, o.toRevision))),
    );
}
