// Decides how a container runs on this machine. Kubernetes runs images; we run local processes, so each container
// maps to one of: our own CLI (kthena images, `kthena …` commands), a simulated engine (vLLM/SGLang → engine-sim),
// a small built-in stand-in for well-known helper images, or the command itself if this machine has it.
// Anything else cannot run and says so (waiting reason ImageNotRunnable).
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Container } from 'kubernetes-types/core/v1.js';
import type { CliInvocation } from './cli-entry.js';
import { translateEngine } from './engine-translation.js';
import { localKthenaArgs } from './kthena-args.js';
import { mockEngineArgv } from './mock-engines.js';

export type LaunchPlan =
  | {
      kind: 'spawn';
      file: string;
      args: string[];
      /** What we are actually running, for events and `kubectl describe`. */
      description: string;
      /** Set when the container became a simulator (probe delays for weight loading are dropped). */
      simulated?: 'engine' | 'stand-in';
      extraEnv?: Record<string, string>;
    }
  | { kind: 'waiting'; reason: 'ImageNotRunnable' | 'CreateContainerConfigError'; message: string };

export interface LaunchOptions {
  podIP: string;
  gpus: number;
  /** Turn inference-engine containers into `kthena engine-sim` (default on). */
  simulateEngines: boolean;
  cli: () => CliInvocation;
  /** PATH used to look commands up. */
  path?: string;
  extraEngineArgs?: string[];
}

const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** Repository part of an image reference without registry host, tag or digest: "volcano-sh/runtime". */
export function imageRepository(image: string | undefined): string {
  let s = (image ?? '').trim().replace(/@.*$/, '');
  const lastSlash = s.lastIndexOf('/');
  const colon = s.lastIndexOf(':');
  if (colon > lastSlash) s = s.slice(0, colon);
  const parts = s.split('/');
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) parts.shift();
  if (parts[0] === 'library') parts.shift();
  return parts.join('/');
}

export function findExecutable(cmd: string, pathEnv = process.env.PATH ?? ''): string | undefined {
  const ok = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (cmd.includes('/')) return ok(cmd) ? cmd : undefined;
  for (const dir of pathEnv.split(delimiter)) {
    if (dir && ok(join(dir, cmd))) return join(dir, cmd);
  }
  return undefined;
}

/** Stand-in programs, run with `node -e`, for helper images that have no local equivalent. */
export const STAND_INS = {
  /** Stays up doing nothing until terminated (pause, multi-node engine workers). */
  idle: "process.on('SIGTERM',()=>process.exit(0));setInterval(()=>{},1<<30);",
  /** Finishes at once (the model downloader: simulated engines need no weights). */
  done: "console.log('kthena local kubelet: '+(process.env.KTHENA_STAND_IN_NOTE||'nothing to do')+'; exiting 0');",
  /** Answers 200 on every path of the container ports (nginx, the kthena runtime sidecar's /health). */
  http: [
    "const http=require('node:http');",
    'const host=process.env.KTHENA_STAND_IN_HOST;',
    "const ports=(process.env.KTHENA_STAND_IN_PORTS||'80').split(',').map(Number);",
    "const servers=ports.map(p=>http.createServer((q,r)=>{r.setHeader('content-type','text/plain');r.end('ok\\n')}).listen(p,host));",
    "console.log('kthena local kubelet: stand-in HTTP server on '+host+':'+ports.join(','));",
    "process.on('SIGTERM',()=>{for(const s of servers)s.close();process.exit(0)});",
  ].join(''),
} as const;

function standIn(
  kind: keyof typeof STAND_INS,
  description: string,
  c: Container,
  opts: LaunchOptions,
  defaultPort?: number,
): LaunchPlan {
  const ports = (c.ports ?? []).map((p) => p.containerPort).filter((p) => p > 0);
  if (ports.length === 0 && defaultPort) ports.push(defaultPort);
  return {
    kind: 'spawn',
    file: process.execPath,
    args: ['-e', STAND_INS[kind]],
    description,
    simulated: 'stand-in',
    extraEnv: {
      KTHENA_STAND_IN_HOST: opts.podIP,
      KTHENA_STAND_IN_PORTS: ports.join(','),
      KTHENA_STAND_IN_NOTE: description,
    },
  };
}

const isKthenaImage = (repo: string) => /(^|\/)kthena(\/kthena)?$/.test(repo) || repo === 'volcano-sh/kthena';
const isRuntimeImage = (repo: string) => /^(kthena|volcano-sh)\/(kthena-)?runtime$/.test(repo);
const isDownloaderImage = (repo: string) => /^(kthena|volcano-sh)\/(kthena-)?downloader$/.test(repo);

/**
 * `kthena runtime` args as a pod on this machine needs them: pods share the host's loopback, so the sidecar listens
 * on the pod's IP and reaches "its" engine there rather than on localhost (which is every pod's here).
 */
export function localRuntimeArgs(args: string[], podIP: string): string[] {
  const out = [...args];
  const i = out.findIndex((a) => a === '--engine-base-url' || a.startsWith('--engine-base-url='));
  const local = (u: string) => u.replace(/^(https?:\/\/)(localhost|127\.0\.0\.1|0\.0\.0\.0)(?=[:/]|$)/, `$1${podIP}`);
  if (i >= 0 && out[i].includes('=')) out[i] = `--engine-base-url=${local(out[i].slice('--engine-base-url='.length))}`;
  else if (i >= 0 && i + 1 < out.length) out[i + 1] = local(out[i + 1]);
  else out.push('--engine-base-url', `http://${podIP}:8000`);
  if (!out.some((a) => a === '--host' || a.startsWith('--host='))) out.push('--host', podIP);
  return out;
}

/**
 * The launch plan for one container. `c.command`/`c.args` must already have $(VAR) references expanded.
 */
export function planLaunch(c: Container, opts: LaunchOptions): LaunchPlan {
  const repo = imageRepository(c.image);
  const command = c.command ?? [];
  const args = c.args ?? [];

  if (opts.simulateEngines) {
    const mock = mockEngineArgv(c, repo, opts.podIP);
    if (mock) {
      const cli = opts.cli();
      return {
        kind: 'spawn',
        file: cli.file,
        args: [...cli.prefix, ...mock],
        description: `simulated engine for mock image ${c.image}: kthena ${mock.join(' ')}`,
        simulated: 'engine',
      };
    }
    const t = translateEngine(c, { podIP: opts.podIP, gpus: opts.gpus, extraArgs: opts.extraEngineArgs });
    if (t?.kind === 'engine') {
      const cli = opts.cli();
      return {
        kind: 'spawn',
        file: cli.file,
        args: [...cli.prefix, ...t.argv],
        description: `simulated ${t.engine} engine: kthena ${t.argv.join(' ')}`,
        simulated: 'engine',
      };
    }
    if (t?.kind === 'idle') return standIn('idle', `simulated ${t.engine} ${t.why}`, c, opts);
    if (t?.kind === 'error') {
      return {
        kind: 'waiting',
        reason: 'CreateContainerConfigError',
        message: `${t.engine} would not start: ${t.message}`,
      };
    }
  }

  if ((command.length > 0 && basename(command[0]) === 'kthena') || (command.length === 0 && isKthenaImage(repo))) {
    const cli = opts.cli();
    let rest = command.length > 0 ? [...command.slice(1), ...args] : args;
    // No model hub is reachable and simulated engines need no weights: the download step succeeds at once.
    if (rest[0] === 'download' && opts.simulateEngines)
      return standIn('done', 'simulated model download (engines are simulated, no weights needed)', c, opts);
    // The runtime sidecar finds its engine on the pod's own IP; listeners bind the pod IP (kthena-args.ts).
    if (rest[0] === 'runtime') rest = ['runtime', ...localRuntimeArgs(rest.slice(1), opts.podIP)];
    else rest = localKthenaArgs(rest, opts.podIP);
    return { kind: 'spawn', file: cli.file, args: [...cli.prefix, ...rest], description: `kthena ${rest.join(' ')}` };
  }
  if (isRuntimeImage(repo) && command.length === 0) {
    // upstream's runtime image takes the same flags as `kthena runtime`
    const cli = opts.cli();
    const rest = ['runtime', ...localRuntimeArgs(args, opts.podIP)];
    return { kind: 'spawn', file: cli.file, args: [...cli.prefix, ...rest], description: `kthena ${rest.join(' ')}` };
  }
  if (isDownloaderImage(repo))
    return standIn('done', 'simulated model download (engines are simulated, no weights needed)', c, opts);
  if (repo === 'pause' || repo.endsWith('/pause')) return standIn('idle', 'pause', c, opts);
  if ((repo === 'nginx' || repo.endsWith('/nginx')) && (command.length === 0 || basename(command[0]) === 'nginx')) {
    return standIn('http', 'stand-in for nginx (answers 200 on its container ports)', c, opts, 80);
  }

  if (command.length === 0) {
    return {
      kind: 'waiting',
      reason: 'ImageNotRunnable',
      message:
        `image "${c.image}" has no local equivalent: the local kubelet runs containers as processes on this machine ` +
        '(kthena images, inference engines as engine-sim, nginx/pause stand-ins, or a `command` found on PATH); ' +
        'set the container command to something this machine can run',
    };
  }
  const exe = findExecutable(command[0], opts.path);
  if (!exe) {
    return {
      kind: 'waiting',
      reason: 'ImageNotRunnable',
      message: `executable "${command[0]}" of image "${c.image}" is not found on this machine's PATH (the local kubelet runs container commands as local processes)`,
    };
  }
  return {
    kind: 'spawn',
    file: exe,
    args: [...command.slice(1), ...args],
    description: [exe, ...command.slice(1), ...args].join(' '),
  };
}
