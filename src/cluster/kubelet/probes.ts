// Probe handlers (httpGet, tcpSocket, exec; gRPC as a TCP connect) with the kubelet's success rules.
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { ContainerPort, Probe } from 'kubernetes-types/core/v1.js';

export interface ProbeContext {
  podIP: string;
  ports: ContainerPort[];
  env: Record<string, string>;
  cwd: string;
}

export interface ProbeResult {
  ok: boolean;
  message?: string;
}

export function resolvePort(port: number | string | undefined, ports: ContainerPort[]): number | undefined {
  if (typeof port === 'number') return port;
  if (port === undefined) return undefined;
  if (/^\d+$/.test(port)) return Number(port);
  return ports.find((p) => p.name === port)?.containerPort;
}

function httpProbe(p: NonNullable<Probe['httpGet']>, ctx: ProbeContext, timeoutMs: number): Promise<ProbeResult> {
  const port = resolvePort(p.port as number | string, ctx.ports);
  if (port === undefined) return Promise.resolve({ ok: false, message: `named port ${p.port} not found` });
  const lib = p.scheme === 'HTTPS' ? https : http;
  const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.32', accept: '*/*' };
  for (const h of p.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value;
  return new Promise((resolve) => {
    const req = lib.request(
      {
        host: p.host || ctx.podIP,
        port,
        path: p.path || '/',
        method: 'GET',
        headers,
        timeout: timeoutMs,
        rejectUnauthorized: false, // the kubelet does not verify probe certificates either
      },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(
          code >= 200 && code < 400
            ? { ok: true }
            : { ok: false, message: `HTTP probe failed with statuscode: ${code}` },
        );
      },
    );
    req.on('timeout', () => {
      req.destroy();
      resolve({
        ok: false,
        message: `Get "http://${p.host || ctx.podIP}:${port}${p.path || '/'}": context deadline exceeded`,
      });
    });
    req.on('error', (e) =>
      resolve({ ok: false, message: `Get "http://${p.host || ctx.podIP}:${port}${p.path || '/'}": ${e.message}` }),
    );
    req.end();
  });
}

function tcpProbe(host: string, port: number | undefined, timeoutMs: number): Promise<ProbeResult> {
  if (port === undefined) return Promise.resolve({ ok: false, message: 'probe port not found' });
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (r: ProbeResult) => {
      s.destroy();
      resolve(r);
    };
    s.setTimeout(timeoutMs, () => done({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` }));
    s.once('connect', () => done({ ok: true }));
    s.once('error', (e) => done({ ok: false, message: `dial tcp ${host}:${port}: ${e.message}` }));
  });
}

function execProbe(command: string[], ctx: ProbeContext, timeoutMs: number): Promise<ProbeResult> {
  if (command.length === 0) return Promise.resolve({ ok: false, message: 'exec probe without a command' });
  return new Promise((resolve) => {
    let out = '';
    const child = spawn(command[0], command.slice(1), {
      env: ctx.env,
      cwd: ctx.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ ok: false, message: `command timed out after ${timeoutMs} ms` });
    }, timeoutMs);
    const collect = (b: Buffer) => {
      if (out.length < 1024) out += b.toString('utf8');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, message: e.message });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? { ok: true } : { ok: false, message: out.trim() || `command exited with ${code}` });
    });
  });
}

/** Runs one probe attempt. Never throws. */
export async function runProbe(probe: Probe, ctx: ProbeContext): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.httpGet) return await httpProbe(probe.httpGet, ctx, timeoutMs);
    if (probe.tcpSocket) {
      return await tcpProbe(
        probe.tcpSocket.host || ctx.podIP,
        resolvePort(probe.tcpSocket.port as number | string, ctx.ports),
        timeoutMs,
      );
    }
    if (probe.exec) return await execProbe(probe.exec.command ?? [], ctx, timeoutMs);
    if (probe.grpc) return await tcpProbe(ctx.podIP, probe.grpc.port, timeoutMs); // documented approximation
    return { ok: false, message: 'probe has no handler' };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}
