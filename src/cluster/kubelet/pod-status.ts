// Pod phase and conditions from container states, as the kubelet computes them (kubelet_pods.go getPhase and the
// status manager's condition generators). Pure: the pod worker calls it after every state change.
import type { ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';

export interface StatusInput {
  pod: Pod;
  initStatuses: ContainerStatus[];
  containerStatuses: ContainerStatus[];
  /** Whether the pod "sandbox" exists (an IP has been allocated). */
  sandboxReady: boolean;
  podIP?: string;
  hostIP?: string;
  startTime?: string;
  /** RFC 3339 now, for condition transitions. */
  now: string;
}

type Phase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

function initComplete(pod: Pod, init: ContainerStatus[]): boolean {
  const names = (pod.spec?.initContainers ?? []).map((c) => c.name);
  return names.every((n) => {
    const s = init.find((x) => x.name === n);
    return s?.state?.terminated?.exitCode === 0;
  });
}

/** Pending, Running, Succeeded or Failed, following the kubelet's getPhase. */
export function podPhase(pod: Pod, init: ContainerStatus[], containers: ContainerStatus[]): Phase {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  if (!initComplete(pod, init)) {
    // An init container that failed and will not be retried fails the pod.
    const failedFinal = init.some((s) => (s.state?.terminated?.exitCode ?? 0) !== 0 && policy === 'Never');
    return failedFinal ? 'Failed' : 'Pending';
  }
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const name of (pod.spec?.containers ?? []).map((c) => c.name)) {
    const s = containers.find((x) => x.name === name);
    if (!s?.state || s.state.waiting) {
      if (s?.lastState?.terminated) {
        stopped++;
        if (s.lastState.terminated.exitCode === 0) succeeded++;
      } else waiting++;
    } else if (s.state.running) running++;
    else if (s.state.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    }
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running'; // OnFailure: failed containers will be restarted
  }
  return 'Pending';
}

function condition(
  previous: PodCondition[] | undefined,
  type: string,
  status: 'True' | 'False',
  now: string,
  reason?: string,
  message?: string,
): PodCondition {
  const prev = previous?.find((c) => c.type === type);
  const c: PodCondition = {
    type,
    status,
    lastProbeTime: null as unknown as string,
    lastTransitionTime: prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : now,
  };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

/** The full status the kubelet writes; keeps lastTransitionTime of conditions whose status did not flip. */
export function computePodStatus(input: StatusInput): PodStatus {
  const { pod, initStatuses, containerStatuses, now } = input;
  const prev = pod.status?.conditions;
  let phase = podPhase(pod, initStatuses, containerStatuses);
  // Terminal phases are final, as on a real kubelet.
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') phase = pod.status.phase;
  const initDone = initComplete(pod, initStatuses);
  const incompleteInit = (pod.spec?.initContainers ?? [])
    .map((c) => c.name)
    .filter((n) => initStatuses.find((s) => s.name === n)?.state?.terminated?.exitCode !== 0);
  const unready = (pod.spec?.containers ?? [])
    .map((c) => c.name)
    .filter((n) => !containerStatuses.find((s) => s.name === n)?.ready);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const allReady = unready.length === 0 && !terminal;
  const terminalReason = phase === 'Succeeded' ? 'PodCompleted' : 'PodFailed';
  const notReadyMsg = `containers with unready status: [${unready.join(' ')}]`;

  const conditions: PodCondition[] = [
    condition(prev, 'PodReadyToStartContainers', input.sandboxReady ? 'True' : 'False', now),
    initDone || terminal
      ? condition(prev, 'Initialized', 'True', now, terminal && !initDone ? terminalReason : undefined)
      : condition(
          prev,
          'Initialized',
          'False',
          now,
          'ContainersNotInitialized',
          `containers with incomplete status: [${incompleteInit.join(' ')}]`,
        ),
    allReady
      ? condition(prev, 'Ready', 'True', now)
      : condition(
          prev,
          'Ready',
          'False',
          now,
          terminal ? terminalReason : 'ContainersNotReady',
          terminal ? undefined : notReadyMsg,
        ),
    allReady
      ? condition(prev, 'ContainersReady', 'True', now)
      : condition(
          prev,
          'ContainersReady',
          'False',
          now,
          terminal ? terminalReason : 'ContainersNotReady',
          terminal ? undefined : notReadyMsg,
        ),
    prev?.find((c) => c.type === 'PodScheduled') ?? condition(prev, 'PodScheduled', 'True', now),
  ];
  const status: PodStatus = {
    ...(pod.status ?? {}),
    phase,
    conditions,
    containerStatuses,
  };
  if (input.hostIP) {
    status.hostIP = input.hostIP;
    status.hostIPs = [{ ip: input.hostIP }];
  }
  if (input.podIP) {
    status.podIP = input.podIP;
    status.podIPs = [{ ip: input.podIP }];
  }
  if (input.startTime) status.startTime = input.startTime;
  if ((pod.spec?.initContainers ?? []).length > 0) status.initContainerStatuses = initStatuses;
  else delete status.initContainerStatuses;
  return status;
}

/** Restart back-off: 10 s doubling to 5 min; a container that ran 10 min without trouble starts over at 10 s. */
export const BACKOFF_INITIAL_MS = 10_000;
export const BACKOFF_MAX_MS = 300_000;
export const BACKOFF_RESET_MS = 600_000;

export function nextBackoffMs(previousMs: number | undefined, ranForMs: number): number {
  if (previousMs === undefined || ranForMs >= BACKOFF_RESET_MS) return BACKOFF_INITIAL_MS;
  return Math.min(previousMs * 2, BACKOFF_MAX_MS);
}

/** Whether a container that exited with `exitCode` is started again under the pod's restart policy. */
export function shouldRestart(restartPolicy: string | undefined, exitCode: number): boolean {
  const policy = restartPolicy ?? 'Always';
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}
