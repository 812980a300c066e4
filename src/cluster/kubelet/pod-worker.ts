// One pod on this kubelet: runs its init containers in order, then its containers, with probes, restarts with
// back-off, and graceful termination. Reports every change through onStatus/onEvent; the kubelet component
// turns those into API writes. All waiting goes through the injected Timers.
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Container, ContainerStatus, Pod, PodStatus, Probe } from 'kubernetes-types/core/v1.js';
import type { CliInvocation } from './cli-entry.js';
import { ContainerConfigError, type EnvSources, expandVars, resolveEnv } from './env.js';
import { type LaunchPlan, planLaunch } from './launch-plan.js';
import { computePodStatus, nextBackoffMs, shouldRestart } from './pod-status.js';
import { runProbe } from './probes.js';
import type { ProcessTracker } from './process-guard.js';
import { type ContainerProcess, exitCodeOf, type ProcessExit, startProcess } from './process-runner.js';
import { rfc3339, type Timers } from './timers.js';
import { type LocalMount, materializeVolumes, rewriteMountPaths } from './volumes.js';

export interface PodEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  fieldPath?: string;
}

export interface PodWorkerDeps {
  timers: Timers;
  podIP: string;
  hostIP: string;
  /** Directory for this pod's container working directories. */
  podDir: string;
  /** Log file of a container's current run, or of its previous run (kept across one restart, as `kubectl logs -p` needs). */
  logPath(container: string, previous: boolean): string;
  simulateEngines: boolean;
  cli: () => CliInvocation;
  envSources: EnvSources;
  /** Environment every container starts with (PATH, HOME, KUBERNETES_SERVICE_HOST, …). */
  baseEnv: Record<string, string>;
  /** GPU device indices assigned to each container (by name). */
  gpus: Record<string, number[]>;
  onStatus(status: PodStatus): void;
  onEvent(e: PodEvent): void;
  /** Extra engine-sim flags for simulated engines (e.g. --speedup). */
  extraEngineArgs?: string[];
  /** Keeps container processes from outliving the kubelet (see process-guard.ts). */
  tracker?: ProcessTracker;
}

interface ProbeState {
  timer?: unknown;
  successes: number;
  failures: number;
  everSucceeded: boolean;
}

class ContainerRun {
  status: ContainerStatus;
  proc?: ContainerProcess;
  startedAtMs = 0;
  backoffMs?: number;
  restartTimer?: unknown;
  probes = new Map<string, ProbeState>();
  plan?: LaunchPlan;
  env: Record<string, string> = {};
  killedBy?: string;
  lastWarning?: string;

  constructor(
    readonly spec: Container,
    readonly init: boolean,
    waitingReason: string,
  ) {
    this.status = {
      name: spec.name,
      image: spec.image ?? '',
      imageID: '',
      ready: false,
      restartCount: 0,
      started: false,
      state: { waiting: { reason: waitingReason } },
    };
  }
}

export class PodWorker {
  private pod: Pod;
  private readonly inits: ContainerRun[];
  private readonly apps: ContainerRun[];
  private readonly startTime: string;
  private terminating = false;
  private initIndex = 0;
  private closed?: Promise<void>;

  constructor(
    pod: Pod,
    private readonly deps: PodWorkerDeps,
  ) {
    this.pod = pod;
    const hasInit = (pod.spec?.initContainers ?? []).length > 0;
    this.inits = (pod.spec?.initContainers ?? []).map((c) => new ContainerRun(c, true, 'PodInitializing'));
    this.apps = (pod.spec?.containers ?? []).map(
      (c) => new ContainerRun(c, false, hasInit ? 'PodInitializing' : 'ContainerCreating'),
    );
    this.startTime = pod.status?.startTime ?? rfc3339(deps.timers.now());
  }

  get name(): string {
    return `${this.pod.metadata?.namespace}/${this.pod.metadata?.name}`;
  }

  /** The latest pod object from the API (labels, conditions written by others). */
  update(pod: Pod): void {
    this.pod = pod;
  }

  start(): void {
    this.report();
    if (this.inits.length > 0) void this.startContainer(this.inits[0]);
    else for (const c of this.apps) void this.startContainer(c);
  }

  status(): PodStatus {
    return computePodStatus({
      pod: this.pod,
      initStatuses: this.inits.map((c) => c.status),
      containerStatuses: this.apps.map((c) => c.status),
      sandboxReady: true,
      podIP: this.deps.podIP,
      hostIP: this.deps.hostIP,
      startTime: this.startTime,
      now: rfc3339(this.deps.timers.now()),
    });
  }

  private report(): void {
    this.deps.onStatus(this.status());
  }

  private event(c: ContainerRun, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const kind = c.init ? 'initContainers' : 'containers';
    this.deps.onEvent({ type, reason, message, fieldPath: `spec.${kind}{${c.spec.name}}` });
  }

  private gpuCount(c: Container): number {
    const r = (c.resources?.limits?.['nvidia.com/gpu'] ?? c.resources?.requests?.['nvidia.com/gpu']) as
      | string
      | number
      | undefined;
    return r === undefined ? 0 : Number(r) || 0;
  }

  private async startContainer(c: ContainerRun): Promise<void> {
    if (this.terminating) return;
    c.restartTimer = undefined;
    let mounts: LocalMount[] = [];
    try {
      const declared = await resolveEnv(
        this.pod,
        c.spec,
        { podIP: this.deps.podIP, hostIP: this.deps.hostIP },
        this.deps.envSources,
      );
      const gpus = this.deps.gpus[c.spec.name] ?? [];
      const gpuEnv: Record<string, string> = gpus.length
        ? { NVIDIA_VISIBLE_DEVICES: gpus.join(','), CUDA_VISIBLE_DEVICES: gpus.join(',') }
        : {};
      c.env = { ...this.deps.baseEnv, HOSTNAME: this.pod.metadata?.name ?? '', ...gpuEnv, ...declared };
      mounts = await materializeVolumes(this.pod, c.spec, this.deps.podDir, this.deps.envSources);
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      this.waitFor(c, 'CreateContainerConfigError', err.message, true);
      return;
    }
    if (this.terminating) return;
    const expanded: Container = {
      ...c.spec,
      command: rewriteMountPaths(
        c.spec.command?.map((s) => expandVars(s, c.env)),
        mounts,
      ),
      args: rewriteMountPaths(
        c.spec.args?.map((s) => expandVars(s, c.env)),
        mounts,
      ),
    };
    const plan = planLaunch(expanded, {
      podIP: this.deps.podIP,
      gpus: this.gpuCount(c.spec),
      simulateEngines: this.deps.simulateEngines,
      cli: this.deps.cli,
      extraEngineArgs: this.deps.extraEngineArgs,
    });
    c.plan = plan;
    if (plan.kind === 'waiting') {
      // An image we cannot run will not become runnable by retrying; a config error might (ConfigMap created later).
      this.waitFor(c, plan.reason, plan.message, plan.reason === 'CreateContainerConfigError');
      return;
    }
    const logPath = this.deps.logPath(c.spec.name, false);
    const firstRun = c.status.restartCount === 0 && !c.proc;
    if (!firstRun) {
      // Keep exactly one previous run, like the kubelet does for `kubectl logs --previous`.
      try {
        renameSync(logPath, this.deps.logPath(c.spec.name, true));
      } catch {
        // nothing logged by the previous run
      }
    }
    if (firstRun) {
      this.event(
        c,
        'Normal',
        'Pulled',
        plan.simulated
          ? `Container image "${c.spec.image}" not pulled: running ${plan.description}`
          : `Container image "${c.spec.image}" already present on machine`,
      );
    }
    const proc = startProcess({
      file: plan.file,
      args: plan.args,
      env: { ...c.env, ...(plan.extraEnv ?? {}) },
      cwd: join(this.deps.podDir, c.spec.name, 'root'),
      logPath,
      truncate: firstRun,
      tracker: this.deps.tracker,
      label: `${this.pod.metadata?.namespace ?? 'default'}/${this.pod.metadata?.name ?? ''}/${c.spec.name}`,
    });
    c.proc = proc;
    c.killedBy = undefined;
    c.startedAtMs = this.deps.timers.now();
    const startedAt = rfc3339(c.startedAtMs);
    c.status = {
      ...c.status,
      containerID: `local://${proc.pid ?? 0}`,
      state: { running: { startedAt } },
      ready: false,
      started: !c.spec.startupProbe,
    };
    this.event(c, 'Normal', 'Created', `Created container ${c.spec.name}`);
    this.event(c, 'Normal', 'Started', `Started container ${c.spec.name}`);
    this.report();
    if (!c.init) this.scheduleProbes(c);
    void proc.exited.then((e) => this.onExit(c, proc, e));
  }

  private waitFor(c: ContainerRun, reason: string, message: string, retry: boolean): void {
    c.status = { ...c.status, ready: false, started: false, state: { waiting: { reason, message } } };
    if (c.lastWarning !== message) {
      this.event(c, 'Warning', 'Failed', `Error: ${message}`);
      c.lastWarning = message;
    }
    this.report();
    if (retry && !this.terminating) {
      c.backoffMs = nextBackoffMs(c.backoffMs, 0);
      c.restartTimer = this.deps.timers.setTimeout(() => void this.startContainer(c), c.backoffMs);
    }
  }

  private onExit(c: ContainerRun, proc: ContainerProcess, e: ProcessExit): void {
    if (c.proc !== proc) return;
    this.stopProbes(c);
    const finishedAtMs = this.deps.timers.now();
    const code = exitCodeOf(e);
    const terminated = {
      exitCode: code,
      reason: e.error ? 'StartError' : code === 0 ? 'Completed' : 'Error',
      message: e.error ?? c.killedBy,
      startedAt: rfc3339(c.startedAtMs),
      finishedAt: rfc3339(finishedAtMs),
      containerID: c.status.containerID,
      ...(e.signal ? { signal: ({ SIGTERM: 15, SIGKILL: 9 } as Record<string, number>)[e.signal] } : {}),
    };
    if (!terminated.message) delete terminated.message;
    c.status = { ...c.status, ready: false, started: false, state: { terminated } };
    if (this.terminating) {
      this.report();
      return;
    }
    const policy = this.pod.spec?.restartPolicy ?? 'Always';
    // Init containers are retried unless the pod never restarts (then the pod fails).
    const restart = c.init ? policy !== 'Never' && code !== 0 : shouldRestart(policy, code);
    if (c.init && code === 0) {
      this.report();
      this.initIndex++;
      if (this.initIndex < this.inits.length) void this.startContainer(this.inits[this.initIndex]);
      else {
        for (const a of this.apps) a.status = { ...a.status, state: { waiting: { reason: 'ContainerCreating' } } };
        for (const a of this.apps) void this.startContainer(a);
      }
      return;
    }
    if (!restart) {
      this.report();
      return;
    }
    const ranFor = finishedAtMs - c.startedAtMs;
    // Like the kubelet: the first restart is immediate, later ones wait 10 s, 20 s, … up to 5 min.
    const wait = c.backoffMs === undefined || ranFor >= 600_000 ? 0 : c.backoffMs;
    c.backoffMs = nextBackoffMs(c.backoffMs, ranFor);
    const restartCount = c.status.restartCount + 1;
    if (wait === 0) {
      c.status = { ...c.status, lastState: { terminated }, restartCount };
      this.report();
      void this.startContainer(c);
      return;
    }
    c.status = {
      ...c.status,
      lastState: { terminated },
      state: {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off ${Math.round(wait / 1000)}s restarting failed container=${c.spec.name} pod=${this.pod.metadata?.name}_${this.pod.metadata?.namespace}(${this.pod.metadata?.uid ?? ''})`,
        },
      },
    };
    this.event(c, 'Warning', 'BackOff', 'Back-off restarting failed container');
    this.report();
    c.restartTimer = this.deps.timers.setTimeout(() => {
      c.status = { ...c.status, restartCount };
      void this.startContainer(c);
    }, wait);
  }

  // ---- probes ----

  private effectiveProbe(c: ContainerRun, p: Probe): { delayMs: number; periodMs: number } {
    const periodMs = (p.periodSeconds ?? 10) * 1000;
    // A simulator needs no time to load weights: the initial delays real engines use are dropped for it, and it is
    // probed every 500 ms until it first answers, so simulated pods become Ready in about a second.
    if (c.plan?.kind === 'spawn' && c.plan.simulated) return { delayMs: 0, periodMs: Math.min(periodMs, 500) };
    return { delayMs: (p.initialDelaySeconds ?? 0) * 1000, periodMs };
  }

  private scheduleProbes(c: ContainerRun): void {
    c.probes.clear();
    if (c.spec.startupProbe) this.armProbe(c, 'Startup', c.spec.startupProbe);
    else this.armPostStartup(c);
  }

  private armPostStartup(c: ContainerRun): void {
    if (c.spec.readinessProbe) this.armProbe(c, 'Readiness', c.spec.readinessProbe);
    else {
      // No readiness probe: ready as soon as started.
      c.status = { ...c.status, ready: true };
      this.report();
    }
    if (c.spec.livenessProbe) this.armProbe(c, 'Liveness', c.spec.livenessProbe);
  }

  private armProbe(c: ContainerRun, kind: 'Startup' | 'Readiness' | 'Liveness', p: Probe, first = true): void {
    const state = c.probes.get(kind) ?? { successes: 0, failures: 0, everSucceeded: false };
    c.probes.set(kind, state);
    const { delayMs, periodMs } = this.effectiveProbe(c, p);
    const fast = c.plan?.kind === 'spawn' && c.plan.simulated && !state.everSucceeded;
    const wait = first ? delayMs : fast ? periodMs : (p.periodSeconds ?? 10) * 1000;
    const proc = c.proc;
    state.timer = this.deps.timers.setTimeout(() => {
      void runProbe(p, {
        podIP: this.deps.podIP,
        ports: c.spec.ports ?? [],
        env: c.env,
        cwd: join(this.deps.podDir, c.spec.name, 'root'),
      }).then((r) => {
        if (c.proc !== proc || !proc?.running || this.terminating || c.probes.get(kind) !== state) return;
        this.onProbeResult(c, kind, p, state, r.ok, r.message);
        if (c.probes.get(kind) === state) this.armProbe(c, kind, p, false);
      });
    }, wait);
  }

  private onProbeResult(
    c: ContainerRun,
    kind: 'Startup' | 'Readiness' | 'Liveness',
    p: Probe,
    state: ProbeState,
    ok: boolean,
    message?: string,
  ): void {
    // The initial delay a real engine's liveness/startup probe waits out is dropped for a simulator (effectiveProbe);
    // the grace it stood for is kept: failures before the simulator first answered do not count towards a restart.
    const simulated = c.plan?.kind === 'spawn' && c.plan.simulated;
    if (!ok && simulated && kind !== 'Readiness' && !state.everSucceeded && (p.initialDelaySeconds ?? 0) > 0) return;
    if (ok) {
      state.successes++;
      state.failures = 0;
      state.everSucceeded = true;
    } else {
      state.failures++;
      state.successes = 0;
    }
    const successThreshold = kind === 'Readiness' ? (p.successThreshold ?? 1) : 1;
    const failureThreshold = p.failureThreshold ?? 3;
    if (!ok && (state.failures === 1 || state.failures === failureThreshold)) {
      this.event(c, 'Warning', 'Unhealthy', `${kind} probe failed: ${message ?? ''}`.trim());
    }
    if (kind === 'Readiness') {
      const ready = ok
        ? state.successes >= successThreshold || c.status.ready
        : state.failures < failureThreshold && c.status.ready;
      if (ready !== c.status.ready) {
        c.status = { ...c.status, ready };
        this.report();
      }
      return;
    }
    if (kind === 'Startup' && ok) {
      c.probes.delete('Startup');
      c.status = { ...c.status, started: true };
      this.report();
      this.armPostStartup(c);
      return;
    }
    if (!ok && state.failures >= failureThreshold) {
      c.probes.delete(kind);
      const why = `Container ${c.spec.name} failed ${kind.toLowerCase()} probe, will be restarted`;
      this.event(c, 'Normal', 'Killing', why);
      c.killedBy = why;
      const grace = p.terminationGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
      void this.stopProcess(c, grace);
    }
  }

  private stopProbes(c: ContainerRun): void {
    for (const s of c.probes.values()) if (s.timer !== undefined) this.deps.timers.clearTimeout(s.timer);
    c.probes.clear();
  }

  // ---- termination ----

  private async stopProcess(c: ContainerRun, graceSeconds: number): Promise<void> {
    const proc = c.proc;
    if (!proc?.running) return;
    const deadline = this.deps.timers.now() + graceSeconds * 1000;
    const preStop = c.spec.lifecycle?.preStop;
    if (preStop && (preStop.exec || preStop.httpGet)) {
      await runProbe(
        { exec: preStop.exec, httpGet: preStop.httpGet, timeoutSeconds: Math.max(1, graceSeconds) },
        {
          podIP: this.deps.podIP,
          ports: c.spec.ports ?? [],
          env: c.env,
          cwd: join(this.deps.podDir, c.spec.name, 'root'),
        },
      );
    }
    proc.signal('SIGTERM');
    const remaining = Math.max(0, deadline - this.deps.timers.now());
    let timer: unknown;
    const killed = new Promise<void>((resolve) => {
      timer = this.deps.timers.setTimeout(() => {
        proc.signal('SIGKILL');
        resolve();
      }, remaining);
    });
    await Promise.race([proc.exited, killed]);
    this.deps.timers.clearTimeout(timer);
    await proc.exited;
  }

  /**
   * Graceful termination: stop restarts and probes, run preStop hooks, SIGTERM, SIGKILL after the grace period.
   * Resolves when every process is gone. Idempotent.
   */
  terminate(graceSeconds: number): Promise<void> {
    this.closed ??= (async () => {
      this.terminating = true;
      const all = [...this.inits, ...this.apps];
      for (const c of all) {
        if (c.restartTimer !== undefined) this.deps.timers.clearTimeout(c.restartTimer);
        this.stopProbes(c);
      }
      await Promise.all(
        all.map(async (c) => {
          if (!c.proc?.running) return;
          this.event(c, 'Normal', 'Killing', `Stopping container ${c.spec.name}`);
          await this.stopProcess(c, graceSeconds);
        }),
      );
      // Containers that never ran end as terminated too, as the kubelet reports them on deletion.
      for (const c of all) {
        if (c.status.state?.waiting) {
          c.status = {
            ...c.status,
            ready: false,
            started: false,
            state: {
              terminated: {
                exitCode: 137,
                reason: 'ContainerStatusUnknown',
                message: 'The container could not be located when the pod was terminated',
              },
            },
          };
        }
        if (c.status.state?.running) c.status = { ...c.status, ready: false };
      }
      this.report();
    })();
    return this.closed;
  }
}
