// One access-log entry per /v1/ request, written at its end (reference §7.5), as JSON or upstream's text format.
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';

export interface AccessLogEntry {
  timestamp: string;
  method: string;
  path: string;
  protocol: string;
  status_code: number;
  error?: { type: string; message: string };
  model_name?: string;
  model_route?: string;
  model_server?: string;
  /** Gateway API mode: the Gateway that received the request; HTTPRoute and InferencePool that served it. */
  gateway?: string;
  http_route?: string;
  inference_pool?: string;
  selected_pod?: string;
  /** Prefill/decode mode: the pair that answered (or the last one tried); selected_pod is the top-ranked decode pod. */
  prefill_pod?: string;
  decode_pod?: string;
  request_id: string;
  backend_type?: string;
  backend_name?: string;
  upstream_model?: string;
  upstream_status_code?: number;
  upstream_attempts?: number;
  error_origin?: 'router' | 'upstream';
  /** Why a fallback provider served the request (saturated, failing, unavailable). */
  fallback?: string;
  input_tokens?: number;
  output_tokens?: number;
  ttft_ms?: number;
  tpot_ms?: number;
  duration_total: number;
  duration_request_processing: number;
  duration_upstream_processing: number;
  duration_response_processing: number;
}

export interface AccessLogOptions {
  enabled: boolean;
  format: 'json' | 'text';
  /** stdout, stderr, or a file path (appended). */
  output: string;
}

export function accessLogOptionsFromEnv(env: NodeJS.ProcessEnv): AccessLogOptions {
  const format = (env.ACCESS_LOG_FORMAT ?? 'text').toLowerCase();
  return {
    enabled: (env.ACCESS_LOG_ENABLED ?? 'true').toLowerCase() !== 'false',
    format: format === 'json' ? 'json' : 'text',
    output: env.ACCESS_LOG_OUTPUT ?? 'stdout',
  };
}

export function formatText(e: AccessLogEntry): string {
  let s = `[${e.timestamp}] "${e.method} ${e.path} ${e.protocol}" ${e.status_code}`;
  if (e.error) s += ` error=${e.error.type}:${e.error.message}`;
  const kv: [string, unknown][] = [
    ['model_name', e.model_name],
    ['model_route', e.model_route],
    ['model_server', e.model_server],
    ['gateway', e.gateway],
    ['http_route', e.http_route],
    ['inference_pool', e.inference_pool],
    ['selected_pod', e.selected_pod],
    ['prefill_pod', e.prefill_pod],
    ['decode_pod', e.decode_pod],
    ['request_id', e.request_id],
    ['backend_type', e.backend_type],
    ['backend_name', e.backend_name],
    ['upstream_model', e.upstream_model],
    ['upstream_status_code', e.upstream_status_code],
    ['upstream_attempts', e.upstream_attempts],
    ['error_origin', e.error_origin],
    ['fallback', e.fallback],
  ];
  for (const [k, v] of kv) if (v !== undefined && v !== '' && v !== 0) s += ` ${k}=${v}`;
  if (e.input_tokens || e.output_tokens) s += ` tokens=${e.input_tokens ?? 0}/${e.output_tokens ?? 0}`;
  if (e.ttft_ms !== undefined) s += ` ttft=${e.ttft_ms}ms`;
  s += ` timings=${e.duration_total}ms(${e.duration_request_processing}+${e.duration_upstream_processing}+${e.duration_response_processing})`;
  return s;
}

export class AccessLog {
  private readonly out: Writable | undefined;
  private readonly ownStream: boolean;

  constructor(private readonly opts: AccessLogOptions) {
    if (!opts.enabled) {
      this.ownStream = false;
      return;
    }
    if (opts.output === 'stdout') this.out = process.stdout;
    else if (opts.output === 'stderr') this.out = process.stderr;
    else this.out = createWriteStream(opts.output, { flags: 'a', mode: 0o644 });
    this.ownStream = opts.output !== 'stdout' && opts.output !== 'stderr';
  }

  write(e: AccessLogEntry): void {
    if (!this.out) return;
    const clean = Object.fromEntries(
      Object.entries(e).filter(([, v]) => v !== undefined && v !== '' && v !== 0 && v !== null),
    ) as Partial<AccessLogEntry>;
    // Status code 0 cannot happen, but tokens and durations can be 0; keep the required numeric fields.
    clean.status_code = e.status_code;
    clean.duration_total = e.duration_total;
    clean.duration_request_processing = e.duration_request_processing;
    clean.duration_upstream_processing = e.duration_upstream_processing;
    clean.duration_response_processing = e.duration_response_processing;
    const line = `${this.opts.format === 'json' ? JSON.stringify(clean) : formatText(e)}\n`;
    // Lines of one event-loop turn leave in one write (one syscall or thread-pool job instead of one per request).
    if (this.pending === '') setImmediate(this.flush);
    this.pending += line;
  }

  private pending = '';
  private readonly flush = () => {
    const text = this.pending;
    this.pending = '';
    if (text && this.out && !this.out.destroyed) this.out.write(text);
  };

  close(): Promise<void> {
    this.flush();
    const out = this.out;
    if (!out || !this.ownStream) return Promise.resolve();
    return new Promise((r) => out.end(r));
  }
}
