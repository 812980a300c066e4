// The router as its own process for the scheduling benchmark: the real router (startRouter) with a config dir
// pointing at the engines, one strategy's router configuration, and the benchmark-only oracle plugin available.
// Usage: node --import tsx bench/scheduling/router-host.ts '{"configDir":…,"routerConfig":…,"oracles":{…},…}'
import { pino } from 'pino';
import { startRouter } from '../../src/router/router.js';
import { oraclePlugin } from './oracle-plugin.js';

const cfg = JSON.parse(process.argv[2] ?? '{}') as {
  configDir: string;
  routerConfig: string;
  oracles: Record<string, string>;
  profile: string;
  blockSize: number;
  /** open the loopback debug port (ephemeral) so the harness can trace decisions */
  debug?: boolean;
};
const router = await startRouter({
  host: '127.0.0.1',
  port: 0,
  metricsPort: 0,
  debugPort: cfg.debug ? 0 : -1,
  configDir: cfg.configDir,
  configPollIntervalMs: 0,
  routerConfigText: cfg.routerConfig,
  scrapeIntervalMs: 1000,
  drainTimeoutMs: 1000,
  accessLog: { enabled: false, format: 'json', output: 'stdout' },
  logger: pino({ level: 'warn' }, pino.destination(2)),
  extraPlugins: [oraclePlugin(cfg.oracles, cfg.profile, cfg.blockSize)],
});
await router.scraper.firstPass();
process.stdout.write(
  `${JSON.stringify({ url: router.url, metricsPort: router.metricsPort, debugPort: router.debugPort })}\n`,
);
const stop = () => void router.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
