// Wires the router: store + sources + scraper + scheduler + proxy + telemetry, and the three listeners
// (inference, metrics, loopback debug). `startRouter` is the one entry point used by the CLI and the tests.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Logger, pino } from 'pino';
import type { AdmissionStage } from './admission/chain.js';
import { errors, sendError } from './errors.js';
import { GatewayMode } from './gateway/gateway-mode.js';
import type { GatewayScope } from './gateway/scope.js';
import { routeAttachment } from './gateway/status.js';
import { RequestHandler } from './handler.js';
import { startEndpointPicker } from './picker/server.js';
import { buildGovernance } from './policy/governance.js';
import { ScaleFromZeroGate } from './policy/scale-from-zero.js';
import { createProviders, type Providers } from './providers/setup.js';
import { UpstreamPools } from './proxy/pools.js';
import {
  buildScheduler,
  DEFAULT_ROUTER_CONFIG_YAML,
  parseRouterConfig,
  type RouterConfiguration,
} from './scheduler/config.js';
import type { PluginDefinition } from './scheduler/plugin.js';
import { BUILTIN_PLUGINS, PluginRegistry } from './scheduler/registry.js';
import { startApiKeySecrets } from './sources/api-key-secrets.js';
import { FileSource } from './sources/files.js';
import { KubeSource, type KubeSourceOptions } from './sources/kubernetes.js';
import type { ExternalValidator } from './sources/manifests.js';
import type { EndpointState } from './store/endpoint-state.js';
import { EngineScraper } from './store/scraper.js';
import { RouterStore } from './store/store.js';
import { AccessLog, type AccessLogOptions, accessLogOptionsFromEnv } from './telemetry/access-log.js';
import { type ConsoleExposure, checkExposure } from './telemetry/console/access.js';
import { debugListener } from './telemetry/console/serve.js';
import { ConsoleStateBuilder } from './telemetry/console/state.js';
import { WorkloadReader } from './telemetry/console/workloads.js';
import { debugHandler } from './telemetry/debug.js';
import { RouterMetrics } from './telemetry/metrics.js';

/** Request bodies larger than this are refused (413), default 16 MiB. */
const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface RouterOptions {
  host?: string;
  port?: number;
  metricsPort?: number;
  /** Debug server port on 127.0.0.1; a negative value disables it. */
  debugPort?: number;
  /**
   * The console and /debug/* on the debug port: loopback only by default; `expose` listens on `host` instead and then
   * every data request needs `Authorization: Bearer <token>` (src/router/telemetry/console/access.ts).
   */
  console?: ConsoleExposure;
  configDir?: string;
  /** Router configuration (upstream's routerConfiguration.yaml); YAML text wins over the file. */
  routerConfigFile?: string;
  routerConfigText?: string;
  maxBodyBytes?: number;
  /** Slow-client defences: time for request headers, and for the whole body after them. */
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  scrapeIntervalMs?: number;
  drainTimeoutMs?: number;
  configPollIntervalMs?: number;
  /** Settle time between the two reads of a reload (half-written files), default 50 ms. */
  configSettleMs?: number;
  upstreamConnections?: number | null;
  upstreamBodyTimeoutMs?: number;
  /** After a response started, the longest gap allowed between upstream chunks (default 60 s; 0 = none). */
  streamStallTimeoutMs?: number;
  /** Continue streams that break or stall after their first bytes on another endpoint (src/router/proxy/midstream). */
  midStreamFailover?: boolean;
  accessLog?: AccessLogOptions;
  logger?: Logger;
  rand?: () => number;
  /** Admission stages; default: built from the router config's `auth` section and the environment (policy/). */
  admission?: AdmissionStage[];
  /** Environment for the governance stages (FAIRNESS_*, REDIS_PASSWORD); default process.env. */
  env?: NodeJS.ProcessEnv;
  extraPlugins?: PluginDefinition[];
  /** Validator for upstream kinds from the API package (field-path error strings). */
  validate?: ExternalValidator;
  exposeMetricsOnRouterPort?: boolean;
  /**
   * Scale from zero: how long a request for a scalable-to-zero ModelServer with no ready endpoint is held (0 = never,
   * answer 503 at once), and how many may wait per ModelServer. Defaults 120 s and 256.
   */
  scaleFromZero?: { maxWaitMs?: number; maxQueue?: number };
  /** Kubernetes source (instead of, or besides, configDir); log/metrics/validate are filled in here. */
  kube?: Omit<KubeSourceOptions, 'log' | 'metrics' | 'validate' | 'routeAttachment' | 'onStartedLeading'>;
  /** Gateway API mode (upstream's --enable-gateway-api): listeners from Gateways; needs `kube`. */
  gatewayApi?: boolean;
  /** Inference Extension mode (--enable-gateway-api-inference-extension): HTTPRoutes + InferencePools. */
  gatewayApiInferenceExtension?: boolean;
  /**
   * Our scheduler as an endpoint picker for other gateways (src/router/picker): the Inference Extension's ext_proc
   * protocol over gRPC on this port. `tls`: PEM serving certificate and key (plaintext when absent).
   */
  endpointPicker?: { port: number; host?: string; tls?: { cert: string; key: string }; maxDestinations?: number };
}

export interface RunningRouter {
  url: string;
  port: number;
  metricsPort: number;
  debugPort: number | undefined;
  store: RouterStore;
  handler: RequestHandler;
  scraper: EngineScraper;
  files: FileSource | undefined;
  kube: KubeSource | undefined;
  /** Gateway API mode, when enabled. */
  gateways: GatewayMode | undefined;
  /** The endpoint picker's gRPC port, when enabled. */
  endpointPickerPort: number | undefined;
  providers: Providers;
  metrics: RouterMetrics;
  config: RouterConfiguration;
  isReady(): boolean;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((r) => server.close(() => r()));
}

const small = (res: ServerResponse, status: number, body: object) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

const workloadsOf = (r: WorkloadReader) => () => r.read();

export async function startRouter(opts: RouterOptions): Promise<RunningRouter> {
  // Process logs go to stderr; stdout carries the access log (upstream's default) and the CLI's own output.
  checkExposure(opts.console);
  const startedAt = Date.now();
  const log =
    opts.logger ?? pino({ name: 'kthena-router', level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2));
  const rand = opts.rand ?? Math.random;
  const metrics = new RouterMetrics();
  const registry = new PluginRegistry([...BUILTIN_PLUGINS, ...(opts.extraPlugins ?? [])]);
  const configText =
    opts.routerConfigText ??
    (opts.routerConfigFile ? await readFile(opts.routerConfigFile, 'utf8') : DEFAULT_ROUTER_CONFIG_YAML);
  const config = parseRouterConfig(configText, registry);
  const built = await buildScheduler(config, registry, { metrics, rand });
  for (const w of built.warnings) log.warn(w);
  const scheduler = built.scheduler;

  const admission = opts.admission ?? buildGovernance({ config, env: opts.env ?? process.env, metrics, log }).stages;
  // API keys from labelled Secrets (auth.apiKeys.secretSelector), watched with the Kubernetes source's client.
  const keySecrets = startApiKeySecrets(admission, opts.kube, log);

  const store = new RouterStore();
  const pools = new UpstreamPools({
    connections: opts.upstreamConnections === undefined ? null : opts.upstreamConnections,
    keepAliveTimeoutMs: 4_000,
    bodyTimeoutMs: opts.upstreamBodyTimeoutMs ?? 300_000,
    connectTimeoutMs: 10_000,
  });
  store.on('endpoint-removed', (s: EndpointState) => pools.release(s.origin));
  const accessLog = new AccessLog(opts.accessLog ?? accessLogOptionsFromEnv(process.env));
  const providers = createProviders({ store, metrics, log });
  // The Kubernetes source, once built below, carries demand to the autoscaler; with files alone requests just wait.
  let demand: ((serverKey: string) => void) | undefined;
  const scaleFromZero = new ScaleFromZeroGate({
    maxWaitMs: opts.scaleFromZero?.maxWaitMs ?? 120_000,
    maxQueue: opts.scaleFromZero?.maxQueue ?? 256,
    endpointsOf: (key) => store.view.endpointsByServer.get(key) ?? [],
    signalDemand: (key) => demand?.(key),
    onWaitStart: () => metrics.scaleFromZeroWaiting.inc(),
    onWaitEnd: (outcome) => {
      if (outcome !== 'queue_full') metrics.scaleFromZeroWaiting.dec();
      metrics.scaleFromZeroWaits.inc({ outcome });
    },
  });
  store.on('change', () => scaleFromZero.notify());
  const handler = new RequestHandler({
    store,
    scheduler,
    pools,
    metrics,
    accessLog,
    log,
    admission,
    limits: { maxBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, timeoutMs: opts.bodyTimeoutMs ?? 60_000 },
    rand,
    providers: providers.hook,
    scaleFromZero,
    streams: {
      stallTimeoutMs: opts.streamStallTimeoutMs ?? 60_000,
      midStreamFailover: opts.midStreamFailover ?? false,
    },
  });
  metrics.sources.activeRequests = () => handler.active;
  metrics.sources.endpoints = () => store.endpointStates();
  const scraper = new EngineScraper(store, { intervalMs: opts.scrapeIntervalMs ?? 1000, metrics, log });

  let files: FileSource | undefined;
  if (opts.configDir) {
    files = new FileSource(store, {
      dir: opts.configDir,
      pollIntervalMs: opts.configPollIntervalMs ?? 2000,
      debounceMs: opts.configSettleMs ?? 50,
      log,
      metrics,
      validate: opts.validate,
      onSecrets: (s) => providers.credentials.replaceAll(s),
    });
    await files.start();
  }
  if (opts.gatewayApi && !opts.kube) throw new Error('Gateway API mode needs the Kubernetes source (--kubeconfig)');
  let kube: KubeSource | undefined;
  let gateways: GatewayMode | undefined;
  if (opts.kube) {
    kube = new KubeSource(store, {
      ...opts.kube,
      log,
      metrics,
      validate: opts.validate,
      routeAttachment: (route) => routeAttachment(route, opts.gatewayApi === true, gateways?.list() ?? []),
      onStartedLeading: () => gateways?.scheduleStatus(),
    });
    kube.start();
    const source = kube;
    demand = (key) => source.signalDemand(key);
    providers.attachKube(opts.kube.client, kube, {
      namespace: opts.kube.namespace,
      writeStatus: opts.kube.writeStatus,
    });
  }
  if (opts.kube && opts.gatewayApi) {
    const source = kube;
    gateways = new GatewayMode({
      client: opts.kube.client,
      store,
      host: opts.host ?? '0.0.0.0',
      namespace: opts.kube.namespace,
      log,
      serve: (req, res, scope) => serveRequest(req, res, scope),
      inferenceExtension: opts.gatewayApiInferenceExtension,
      rand,
      isLeader: () => source?.isLeader() ?? false,
      onChange: () => source?.scheduleStatus(),
    });
    gateways.start();
  }
  // /readyz stays 503 until every informer has loaded its first LIST.
  const sourcesSynced = () =>
    (kube?.hasSynced() ?? true) && (keySecrets?.hasSynced() ?? true) && (gateways?.hasSynced() ?? true);
  scraper.start();

  let draining = false;
  // One entry for the router's own port and every Gateway listener (`listener` set: scoped to its Gateway).
  const serveRequest = (req: IncomingMessage, res: ServerResponse, scope?: GatewayScope) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/healthz') return small(res, 200, { message: 'ok' });
    if (path === '/readyz') {
      return isReady() && !draining
        ? small(res, 200, { message: 'router is ready' })
        : small(res, 503, { message: 'router is not ready' });
    }
    if (path === '/metrics' && opts.exposeMetricsOnRouterPort) return void serveMetrics(res);
    if (draining) {
      res.setHeader('connection', 'close');
      return sendError(res, errors.shuttingDown());
    }
    if ((path === '/v1/models' || path === '/models') && req.method === 'GET') return handler.modelsList(res);
    if (path.startsWith('/v1/models/') && req.method === 'GET') {
      let id: string;
      try {
        id = decodeURIComponent(path.slice('/v1/models/'.length));
      } catch {
        return sendError(res, errors.invalidBody(`malformed model id in ${path}`));
      }
      return handler.modelInfo(res, id);
    }
    if (path.startsWith('/v1/')) {
      if (req.method !== 'POST') return sendError(res, errors.methodNotAllowed(req.method ?? '', path));
      return void handler.handle(req, res, path, scope);
    }
    // Inference Extension mode: HTTPRoutes serve any path on a Gateway listener (a JSON body with a model is needed).
    if (scope?.inferencePool) return void handler.handle(req, res, path, scope);
    sendError(res, errors.notFound(path));
  };
  // Node checks the header and request timeouts of incomplete requests on this interval (default 30 s, so a
  // 60 s headers timeout fired after up to 90 s); once a second keeps the documented bound.
  const main = createServer({ connectionsCheckingInterval: 1000 }, (req: IncomingMessage, res: ServerResponse) =>
    serveRequest(req, res),
  );
  // Streams outlive Node's 300 s default request timeout; slow clients are bounded by headers/body timeouts instead.
  main.requestTimeout = 0;
  main.headersTimeout = opts.headersTimeoutMs ?? 60_000;
  main.keepAliveTimeout = 65_000;
  main.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = JSON.stringify({
      error: { message: `bad request: ${err.code ?? err.message}`, type: 'invalid_request_error', code: 'bad_request' },
    });
    socket.end(
      `HTTP/1.1 ${status} Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });

  const serveMetrics = async (res: ServerResponse) => {
    try {
      const text = await metrics.registry.metrics();
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(text);
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  };
  const metricsServer = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/metrics' && req.method === 'GET') return void serveMetrics(res);
    small(res, 404, { error: 'not found' });
  });
  const host = opts.host ?? '0.0.0.0';
  const consoleState = new ConsoleStateBuilder({
    store,
    scheduler,
    metrics,
    lastScore: (k) => handler.lastScore(k),
    config: config.scheduler,
    startedAt,
    workloads: opts.kube ? workloadsOf(new WorkloadReader(opts.kube.client, opts.kube.namespace)) : undefined,
    isReady: () => isReady(),
    activeRequests: () => handler.active,
  });
  const debugServer =
    (opts.debugPort ?? 15000) >= 0
      ? createServer(
          debugListener({
            exposure: opts.console,
            state: consoleState,
            debug: debugHandler({
              store,
              handler,
              scheduler,
              config,
              gatewayApi: () => ({
                gateways: gateways?.gateways.list() ?? [],
                httproutes: gateways?.inference?.routes.list() ?? [],
                inferencepools: gateways?.inference?.pools.list() ?? [],
              }),
            }),
          }),
        )
      : undefined;

  const port = await listen(main, opts.port ?? 8080, host);
  const metricsPort = await listen(metricsServer, opts.metricsPort ?? 9090, host);
  const debugHost = opts.console?.expose ? host : '127.0.0.1';
  const debugPort = debugServer ? await listen(debugServer, opts.debugPort ?? 15000, debugHost) : undefined;
  const isReady = () => sourcesSynced() && scraper.completedPasses > 0;
  const picker = opts.endpointPicker
    ? await startEndpointPicker({
        store,
        scheduler,
        rand,
        maxDestinations: opts.endpointPicker.maxDestinations ?? 3,
        host: opts.endpointPicker.host ?? host,
        port: opts.endpointPicker.port,
        tls: opts.endpointPicker.tls,
        maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
        isReady: () => isReady() && !draining,
        log,
      })
    : undefined;
  log.info({ port, metricsPort, debugPort, endpointPickerPort: picker?.port }, 'router listening');

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      draining = true;
      const stopped = closeServer(main);
      main.closeIdleConnections();
      const deadline = Date.now() + (opts.drainTimeoutMs ?? 300_000);
      while (handler.active > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if (handler.active > 0) log.warn({ inflight: handler.active }, 'drain timeout: closing remaining requests');
      scaleFromZero.close();
      main.closeAllConnections();
      await stopped;
      await picker?.close();
      files?.stop();
      await gateways?.stop();
      await kube?.stop();
      await providers.close();
      await keySecrets?.stop();
      await scraper.stop();
      for (const p of scheduler.plugins) p.close?.();
      for (const a of admission) await a.close?.();
      await pools.closeAll();
      metricsServer.closeAllConnections();
      debugServer?.closeAllConnections();
      await Promise.all([closeServer(metricsServer), debugServer ? closeServer(debugServer) : undefined]);
      await accessLog.close();
    })();
    return closing;
  };

  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    metricsPort,
    debugPort,
    store,
    handler,
    scraper,
    files,
    kube,
    gateways,
    endpointPickerPort: picker?.port,
    providers,
    metrics,
    config,
    isReady,
    close,
  };
}
