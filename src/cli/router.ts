// `kthena router`: the data plane. Resources come from --config-dir (hot-reloaded YAML) or the Kubernetes API
// (--kubeconfig, or in-cluster when KUBERNETES_SERVICE_HOST is set).
import { existsSync, readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Logger } from 'pino';
import { KubeClient } from '../kube/client.js';
import { generateServingCerts } from '../kube/tls.js';
import { type RouterOptions, type RunningRouter, startRouter } from '../router/router.js';
import { accessLogOptionsFromEnv } from '../router/telemetry/access-log.js';
import { parseDuration } from '../router/util/duration.js';
import { addLogOptions, createLogger, type LogOptions } from './logging.js';

function int(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be an integer ${min}..${max}`);
    return n;
  };
}

function dur(v: string): number {
  try {
    return parseDuration(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** 60000 → "1m", 1500 → "1500ms": how a default reads in --help, in the syntax the flag takes. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const)
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** A Go-style duration flag (value in ms), its default shown as a duration, optionally read from `env`. */
function durationOption(flags: string, description: string, defaultMs: number, env?: string): Option {
  const o = new Option(flags, description).argParser(dur).default(defaultMs, formatDuration(defaultMs));
  return env ? o.env(env) : o;
}

export interface RouterCliOptions extends LogOptions {
  host: string;
  port: number;
  metricsPort: number;
  debugPort: number;
  consoleExpose?: boolean;
  consoleToken?: string;
  configDir?: string;
  kubeconfig?: string;
  namespace?: string;
  writeStatus?: boolean;
  routerConfig?: string;
  maxBodyBytes: number;
  headersTimeout: number;
  bodyTimeout: number;
  scrapeInterval: number;
  drainTimeout: number;
  accessLogFormat?: 'json' | 'text';
  accessLogOutput?: string;
  accessLog: boolean;
  exposeMetricsOnRouterPort?: boolean;
  scaleFromZeroWait?: number;
  scaleFromZeroQueue?: number;
  streamStallTimeout?: number;
  midStreamFailover?: boolean;
  enableGatewayApi?: boolean;
  enableGatewayApiInferenceExtension?: boolean;
  endpointPickerPort?: number;
  endpointPickerSecure?: boolean;
  endpointPickerCert?: string;
  endpointPickerKey?: string;
  /** The process logger (the CLI builds it from --log-format/--log-level); default: JSON at $LOG_LEVEL. */
  logger?: Logger;
}

/** Stops the router on SIGINT/SIGTERM after draining in-flight requests. */
export function closeOnSignals(close: () => Promise<void>, log?: Logger): void {
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) process.exit(1); // a second signal forces exit
    stopping = true;
    if (log) log.info({ signal: sig }, 'stopping: draining in-flight requests');
    else process.stderr.write(`kthena: ${sig} received, draining\n`);
    void close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

export async function runRouter(o: RouterCliOptions): Promise<RunningRouter> {
  // Like kubectl and the controller manager: $KUBECONFIG comes before in-cluster credentials (the local
  // kubelet gives its pods one); --config-dir still wins over both.
  if (!o.configDir && !o.kubeconfig && process.env.KUBECONFIG) o = { ...o, kubeconfig: process.env.KUBECONFIG };
  if (!o.configDir && !o.kubeconfig && !process.env.KUBERNETES_SERVICE_HOST) {
    throw new Error('give --config-dir DIR (YAML manifests) or --kubeconfig FILE');
  }
  // The file source replaces the whole store on each reload, so the two sources cannot share it.
  if (o.configDir && o.kubeconfig) throw new Error('give either --config-dir or --kubeconfig, not both');
  // --config-dir wins over the in-cluster environment.
  const useKube = Boolean(o.kubeconfig) || (!o.configDir && Boolean(process.env.KUBERNETES_SERVICE_HOST));
  if (o.kubeconfig && !existsSync(o.kubeconfig)) throw new Error(`--kubeconfig ${o.kubeconfig}: no such file`);
  let client: KubeClient | undefined;
  try {
    if (useKube) client = o.kubeconfig ? KubeClient.fromKubeconfig(o.kubeconfig) : KubeClient.inCluster();
  } catch (e) {
    throw new Error(`${o.kubeconfig ? `--kubeconfig ${o.kubeconfig}` : 'in-cluster config'}: ${(e as Error).message}`);
  }
  if (o.enableGatewayApiInferenceExtension && !o.enableGatewayApi)
    throw new Error('--enable-gateway-api-inference-extension needs --enable-gateway-api');
  if (o.enableGatewayApi && !client) throw new Error('--enable-gateway-api needs the Kubernetes source (--kubeconfig)');
  if (o.routerConfig && !existsSync(o.routerConfig)) throw new Error(`--router-config ${o.routerConfig}: no such file`);
  const env = accessLogOptionsFromEnv(process.env);
  const endpointPicker = endpointPickerOptions(o);
  const started = startRouter({
    endpointPicker,
    logger: o.logger,
    gatewayApi: o.enableGatewayApi,
    gatewayApiInferenceExtension: o.enableGatewayApiInferenceExtension,
    host: o.host,
    port: o.port,
    metricsPort: o.metricsPort,
    debugPort: o.debugPort,
    console: { expose: o.consoleExpose === true, token: o.consoleToken },
    configDir: o.configDir,
    kube: client ? { client, namespace: o.namespace, writeStatus: o.writeStatus ?? true } : undefined,
    routerConfigFile: o.routerConfig,
    maxBodyBytes: o.maxBodyBytes,
    headersTimeoutMs: o.headersTimeout,
    bodyTimeoutMs: o.bodyTimeout,
    scrapeIntervalMs: o.scrapeInterval,
    drainTimeoutMs: o.drainTimeout,
    exposeMetricsOnRouterPort: o.exposeMetricsOnRouterPort,
    scaleFromZero: { maxWaitMs: o.scaleFromZeroWait, maxQueue: o.scaleFromZeroQueue },
    streamStallTimeoutMs: o.streamStallTimeout,
    midStreamFailover: o.midStreamFailover ?? false,
    accessLog: {
      enabled: o.accessLog && env.enabled,
      format: o.accessLogFormat ?? env.format,
      output: o.accessLogOutput ?? env.output,
    },
  });
  // The scheduler configuration is parsed inside the router: say which file a bad one came from.
  return started.catch((e: unknown) => {
    if (o.routerConfig && (e as Error).name === 'ConfigError')
      throw new Error(`--router-config ${o.routerConfig}: ${(e as Error).message}`);
    throw e;
  });
}

/** --endpoint-picker-*: the gRPC port, and TLS from files or, with --endpoint-picker-secure alone, self-signed. */
function endpointPickerOptions(o: RouterCliOptions): RouterOptions['endpointPicker'] {
  const port = o.endpointPickerPort ?? -1;
  const files = [o.endpointPickerCert, o.endpointPickerKey].filter(Boolean).length;
  if (port < 0) {
    if (o.endpointPickerSecure || files)
      throw new Error('--endpoint-picker-secure/-cert/-key need --endpoint-picker-port');
    return undefined;
  }
  if (files === 1) throw new Error('--endpoint-picker-cert and --endpoint-picker-key go together');
  for (const f of [o.endpointPickerCert, o.endpointPickerKey])
    if (f && !existsSync(f)) throw new Error(`${f}: no such file`);
  const tls =
    o.endpointPickerCert && o.endpointPickerKey
      ? { cert: readFileSync(o.endpointPickerCert, 'utf8'), key: readFileSync(o.endpointPickerKey, 'utf8') }
      : o.endpointPickerSecure
        ? generateServingCerts({
            caName: 'kthena-endpoint-picker-ca',
            names: ['localhost', '127.0.0.1'],
            validMs: 365 * 24 * 3600_000,
          })
        : undefined;
  return { port, tls };
}

export function addRouterOptions(cmd: Command): Command {
  return addLogOptions(cmd)
    .option('--host <addr>', 'listen address for the inference and metrics ports', '0.0.0.0')
    .option('--port <n>', 'inference port', int('--port', 0, 65535), 8080)
    .option('--metrics-port <n>', 'Prometheus /metrics port', int('--metrics-port', 0, 65535), 9090)
    .option(
      '--debug-port <n>',
      'debug server port (/debug/*, the console at /console/) on 127.0.0.1 (-1 disables)',
      int('--debug-port', -1, 65535),
      15000,
    )
    .option('--console-expose', 'serve the debug port on --host instead of loopback; needs a console token')
    .addOption(
      new Option('--console-token <token>', 'bearer token the exposed console requires').env('KTHENA_CONSOLE_TOKEN'),
    )
    .option(
      '--router-config <file>',
      "upstream's routerConfiguration.yaml or its ConfigMap (scheduler plugins; default: filters outlier-detection and lora-affinity, scorer latency-predictor)",
    )
    .option(
      '--max-body-bytes <n>',
      'request body limit (413 above it)',
      int('--max-body-bytes', 1, 2 ** 31),
      16 * 1024 * 1024,
    )
    .addOption(
      durationOption('--headers-timeout <dur>', 'time allowed for a client to send request headers (e.g. 30s)', 60_000),
    )
    .addOption(durationOption('--body-timeout <dur>', 'time allowed for a client to send the request body', 60_000))
    .addOption(
      durationOption(
        '--scrape-interval <dur>',
        'engine /metrics and /v1/models polling interval',
        1000,
        'METRICS_SCRAPE_INTERVAL',
      ),
    )
    .addOption(
      durationOption(
        '--drain-timeout <dur>',
        'graceful shutdown: how long in-flight requests may finish',
        300_000,
        'DRAIN_TIMEOUT',
      ),
    )
    .option('--access-log-format <fmt>', 'json or text (env ACCESS_LOG_FORMAT)')
    .option('--access-log-output <dest>', 'stdout, stderr or a file path (env ACCESS_LOG_OUTPUT)')
    .option('--no-access-log', 'disable the access log (env ACCESS_LOG_ENABLED=false)')
    .option('--expose-metrics-on-router-port', 'also serve /metrics on the inference port')
    .addOption(
      durationOption(
        '--scale-from-zero-wait <dur>',
        'hold requests for a scalable-to-zero ModelServer with no ready pod this long (0 = answer 503 at once)',
        120_000,
      ),
    )
    .option(
      '--scale-from-zero-queue <n>',
      'at most this many held requests per ModelServer; more get 503 with Retry-After',
      int('--scale-from-zero-queue', 1, 100_000),
      256,
    )
    .option(
      '--stream-stall-timeout <dur>',
      'after a response started, end it (SSE error event; failover with --mid-stream-failover) when no bytes arrive for this long; 0s disables',
      dur,
      60_000,
    )
    .option(
      '--mid-stream-failover',
      'continue a stream that breaks or stalls after its first bytes on another endpoint, from the text already sent',
    );
}

export function register(program: Command): void {
  addRouterOptions(
    program
      .command('router')
      .description('run the kthena router (OpenAI-compatible, model-aware load balancing)')
      .option(
        '--config-dir <dir>',
        'directory of YAML manifests (ModelRoute, ModelServer, EngineEndpoint), hot-reloaded',
      )
      .option(
        '--kubeconfig <file>',
        'read resources from the Kubernetes API named by this kubeconfig (default: $KUBECONFIG, else in-cluster)',
      )
      .option('--namespace <ns>', 'Kubernetes source: watch only this namespace (default: all namespaces)')
      .option('--no-write-status', 'Kubernetes source: do not write ModelRoute/ModelServer status (no Lease either)')
      .option('--enable-gateway-api', 'Gateway API mode: one listener per port of the kthena-router Gateways')
      .option(
        '--enable-gateway-api-inference-extension',
        'Inference Extension mode: HTTPRoutes with InferencePool backends (needs --enable-gateway-api)',
      )
      .option(
        '--endpoint-picker-port <n>',
        "serve the Inference Extension's endpoint-picker protocol (Envoy ext_proc over gRPC) on this port, so other gateways use our scheduler (-1 disables; upstream's picker uses 9002)",
        int('--endpoint-picker-port', -1, 65535),
        -1,
      )
      .option('--endpoint-picker-secure', 'endpoint picker over TLS with a self-signed certificate')
      .option('--endpoint-picker-cert <file>', 'endpoint picker TLS certificate (PEM; with --endpoint-picker-key)')
      .option('--endpoint-picker-key <file>', 'endpoint picker TLS private key (PEM)'),
  ).action(async (o: RouterCliOptions) => {
    if (o.accessLogFormat && o.accessLogFormat !== 'json' && o.accessLogFormat !== 'text') {
      throw new Error('--access-log-format must be json or text');
    }
    const logger = createLogger(o, 'kthena-router');
    const r = await runRouter({ ...o, logger });
    process.stdout.write(
      `kthena router: serving on ${r.url} (metrics :${r.metricsPort}${r.endpointPickerPort !== undefined ? `, endpoint picker :${r.endpointPickerPort}` : ''})\n`,
    );
    closeOnSignals(r.close, logger);
  });
}
