// `kthena controller-manager`: the Kthena controllers (modelserving, modelbooster, autoscaler) against any Kubernetes API,
// with optional Lease leader election, /healthz, /readyz and Prometheus /metrics.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { enabledControllers, startControllerManager } from '../controllers/manager.js';
import { DEFAULT_CERT_SECRET, DEFAULT_WEBHOOK_SERVICE } from '../controllers/webhooks/certs.js';
import { type CertRotation, startCertRotation } from '../controllers/webhooks/rotation.js';
import { KubeClient } from '../kube/client.js';
import { realClock } from '../kube/clock.js';
import { intArg } from './args.js';
import { addLogOptions, createLogger, type LogOptions } from './logging.js';

const SA_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

function secondsArg(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+(\.\d+)?$/.test(v) || !(n > 0) || n > 3600)
      throw new InvalidArgumentError(`${name} must be seconds in (0, 3600]`);
    return n;
  };
}

function controllersArg(v: string): string {
  try {
    enabledControllers(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return v;
}

export interface ControllerManagerCliOptions extends LogOptions {
  kubeconfig?: string;
  context?: string;
  workers: number;
  controllers: string;
  namespace?: string;
  leaderElect: boolean;
  leaseNamespace?: string;
  leaseName: string;
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
  port: number;
  host: string;
  enableWebhook: boolean;
  webhookPort: number;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  certSecretName: string;
  serviceName: string;
  autoscalingSyncPeriodSeconds: number;
  localWebhooks: string;
}

/** Loopback API servers (the local control plane) call webhooks by URL: serve them there and register them. */
function wantsLocalWebhooks(mode: string, server: string): boolean {
  if (mode === 'on') return true;
  if (mode === 'off') return false;
  try {
    return /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(new URL(server).hostname);
  } catch {
    return false;
  }
}

/** The namespace of the Lease: the flag, else POD_NAMESPACE, else the service account's, else default. */
function leaseNamespace(o: ControllerManagerCliOptions): string {
  if (o.leaseNamespace) return o.leaseNamespace;
  if (process.env.POD_NAMESPACE) return process.env.POD_NAMESPACE;
  if (existsSync(SA_NAMESPACE_FILE)) return readFileSync(SA_NAMESPACE_FILE, 'utf8').trim();
  return 'default';
}

export function register(program: Command): void {
  addLogOptions(program.command('controller-manager'))
    .description('run the Kthena controllers (modelserving, modelbooster, autoscaler) against a Kubernetes API server')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, else in-cluster service account)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('--workers <n>', 'work queue workers per controller', intArg('--workers', 1, 256), 5)
    .option('--controllers <list>', 'controllers to run: *, name, -name (comma separated)', controllersArg, '*')
    .option('--namespace <ns>', 'watch only this namespace (default: all)')
    .option('--leader-elect', 'run Lease-based leader election (for more than one replica)', false)
    .option('--lease-namespace <ns>', 'namespace of the Lease (default: $POD_NAMESPACE or the pod namespace)')
    .option('--lease-name <name>', 'name of the Lease', 'kthena.controller-manager')
    .option('--lease-duration <s>', 'Lease duration in seconds', secondsArg('--lease-duration'), 15)
    .option(
      '--renew-deadline <s>',
      'leader gives up after failing to renew this long',
      secondsArg('--renew-deadline'),
      10,
    )
    .option('--retry-period <s>', 'seconds between Lease attempts', secondsArg('--retry-period'), 2)
    .option('--port <n>', 'port of /healthz, /readyz and /metrics (0 = ephemeral)', intArg('--port', 0, 65535), 8080)
    .option('--host <addr>', 'address of the health/metrics server', '0.0.0.0')
    .option('--enable-webhook', 'serve the ModelServing validating/defaulting webhooks over HTTPS', false)
    .option('--webhook-port <n>', 'webhook port', intArg('--webhook-port', 0, 65535), 8443)
    .option('--tls-cert-file <path>', 'webhook serving certificate (PEM)')
    .option('--tls-private-key-file <path>', 'webhook serving key (PEM)')
    .option(
      '--cert-secret-name <name>',
      'without TLS files: keep a self-signed CA + serving certificate in this Secret and patch the webhook configurations',
      DEFAULT_CERT_SECRET,
    )
    .option('--service-name <name>', 'webhook Service the self-signed certificate is for', DEFAULT_WEBHOOK_SERVICE)
    .option(
      '--autoscaling-sync-period-seconds <s>',
      'seconds between autoscaler passes (a new or changed policy is acted on at once)',
      secondsArg('--autoscaling-sync-period-seconds'),
      15,
    )
    .option(
      '--local-webhooks <mode>',
      'auto|on|off: serve the admission webhooks over HTTP on 127.0.0.1 and register them with the API server (auto: when the API server is on loopback, e.g. `kthena cluster`)',
      (v: string) => {
        if (!['auto', 'on', 'off'].includes(v))
          throw new InvalidArgumentError('--local-webhooks must be auto, on or off');
        return v;
      },
      'auto',
    )
    .action(async (o: ControllerManagerCliOptions) => {
      if (!(o.renewDeadline < o.leaseDuration))
        throw new InvalidArgumentError('--renew-deadline must be shorter than --lease-duration');
      if (o.enableWebhook && !o.tlsCertFile !== !o.tlsPrivateKeyFile)
        throw new InvalidArgumentError('--tls-cert-file and --tls-private-key-file go together');
      for (const [flag, f] of [
        ['--tls-cert-file', o.tlsCertFile],
        ['--tls-private-key-file', o.tlsPrivateKeyFile],
      ] as const)
        if (o.enableWebhook && f && !existsSync(f)) throw new Error(`${flag} ${f}: no such file`);
      const log = createLogger(o, 'kthena-controller-manager');
      const kubeconfig = o.kubeconfig ?? process.env.KUBECONFIG;
      let client: KubeClient;
      if (kubeconfig) {
        const path = resolve(kubeconfig);
        if (!existsSync(path)) throw new Error(`kubeconfig ${path} does not exist`);
        client = KubeClient.fromKubeconfig(path, o.context);
      } else client = KubeClient.inCluster();
      let webhook: { port: number; host: string; cert?: string; key?: string; register?: boolean } | undefined;
      let rotation: CertRotation | undefined;
      let mgr: Awaited<ReturnType<typeof startControllerManager>> | undefined;
      if (o.enableWebhook) {
        if (o.tlsCertFile && o.tlsPrivateKeyFile)
          webhook = {
            port: o.webhookPort,
            host: o.host,
            cert: readFileSync(o.tlsCertFile, 'utf8'),
            key: readFileSync(o.tlsPrivateKeyFile, 'utf8'),
          };
        else {
          // Self-managed certificates (upstream's `auto`): a CA + serving cert in the Secret, the CA bundle into the
          // configurations, both renewed before they expire and served without a restart.
          const namespace = process.env.POD_NAMESPACE ?? leaseNamespace(o);
          rotation = await startCertRotation({
            client,
            target: { namespace, secretName: o.certSecretName, service: o.serviceName },
            clock: realClock,
            log,
            onRenewed: (c) => mgr?.setWebhookCertificate(c.cert, c.key),
          });
          const certs = rotation.current();
          log.info({ secret: `${namespace}/${o.certSecretName}` }, 'webhook certificates ready');
          webhook = { port: o.webhookPort, host: o.host, cert: certs.cert, key: certs.key };
        }
      }
      if (!webhook && wantsLocalWebhooks(o.localWebhooks, client.server))
        webhook = { port: 0, host: '127.0.0.1', register: true };
      mgr = await startControllerManager({
        client,
        log,
        workers: o.workers,
        controllers: o.controllers,
        namespace: o.namespace,
        leaderElect: o.leaderElect,
        leaseNamespace: leaseNamespace(o),
        leaseName: o.leaseName,
        leaseDurationMs: o.leaseDuration * 1000,
        renewDeadlineMs: o.renewDeadline * 1000,
        retryPeriodMs: o.retryPeriod * 1000,
        port: o.port,
        host: o.host,
        webhook,
        autoscalingSyncPeriodMs: o.autoscalingSyncPeriodSeconds * 1000,
      });
      const running = mgr;
      process.stdout.write(`kthena controller-manager: health and metrics at ${running.url}\n`);
      await new Promise<void>((done) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) return;
          stopping = true;
          log.info({ signal }, 'shutting down');
          rotation?.stop();
          running
            .close()
            .then(() => client.close())
            .then(done, (e: unknown) => {
              log.error({ err: (e as Error).message }, 'error while stopping');
              done();
            });
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });
}
