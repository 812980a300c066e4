// Upstream's router configuration format (reference §3.7): parse, check against the plugin registry, build a Scheduler.
// Unlike upstream, an unknown plugin name is an error listing the known ones (upstream logs and ignores it).
import { parse as parseYaml } from 'yaml';
import { Scheduler } from './framework.js';
import type { PluginArgs, PluginDeps, SchedulerPlugin } from './plugin.js';
import type { PluginRegistry } from './registry.js';

export interface RouterConfiguration {
  scheduler: {
    pluginConfig: { name: string; args: PluginArgs }[];
    filters: string[];
    scores: { name: string; weight: number }[];
    /** Candidates kept for failover (ours; upstream fixes 5). */
    topN: number;
  };
  /** Kept verbatim for the auth stage (issue #6). */
  auth?: Record<string, unknown>;
  /** Kept verbatim for the concurrency cap (policy/concurrency-cap.ts). */
  limits?: Record<string, unknown>;
}

/**
 * What the router runs without --router-config: our latency-predicting scorer as the one scorer (see docs/scheduling.md).
 * It won or tied every scenario of `kthena bench scheduling` (docs/benchmarks.md): one objective — the request's
 * predicted time to first token, queued prefill there plus its own uncached prefill — covers both what upstream's
 * default mixes by hand (load: least-request, gpu-usage, least-latency; cache: prefix-cache) and the trade-off
 * between them, which fixed weights get wrong in one workload or the other. With no KV events it still works on
 * its own speculative index (a token-exact prefix cache). Upstream's default stays available, verbatim, as
 * UPSTREAM_HELM_ROUTER_CONFIG_YAML and as the ConfigMap examples/router/router-config.yaml.
 */
export const DEFAULT_ROUTER_CONFIG_YAML = `scheduler:
  pluginConfig:
  - name: latency-predictor
    args: {tokenizer: auto, blockSize: 16, kvEventsPort: 5557}
  plugins:
    Filter:
      enabled: [outlier-detection, lora-affinity]
    Score:
      enabled:
      - {name: latency-predictor, weight: 1}
`;

/** Upstream's Helm default (reference §3.7), kept for users who want upstream's exact behaviour. */
export const UPSTREAM_HELM_ROUTER_CONFIG_YAML = `scheduler:
  pluginConfig:
  - name: least-request
    args: {maxWaitingRequests: 10}
  - name: least-latency
    args: {TTFTTPOTWeightFactor: 0.5}
  - name: prefix-cache
    args: {blockSizeToHash: 64, maxBlocksToMatch: 128, maxHashCacheSize: 50000, topKMatches: 5}
  plugins:
    Filter:
      enabled: [least-request]
    Score:
      enabled:
      - {name: least-request, weight: 1}
      - {name: gpu-usage, weight: 1}
      - {name: least-latency, weight: 1}
      - {name: prefix-cache, weight: 1}
`;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function parseRouterConfig(text: string, registry: PluginRegistry): RouterConfiguration {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`router configuration is not valid YAML: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (!isObj(doc)) throw new ConfigError('router configuration must be a mapping');
  // ConfigMap form: {data: {routerConfiguration: "..."}} is accepted so an upstream ConfigMap file works as-is.
  if (doc.kind === 'ConfigMap' && isObj(doc.data) && typeof doc.data.routerConfiguration === 'string') {
    return parseRouterConfig(doc.data.routerConfiguration, registry);
  }
  const problems: string[] = [];
  const sched = doc.scheduler ?? {};
  if (!isObj(sched)) throw new ConfigError('scheduler: must be a mapping');

  const pluginConfig: { name: string; args: PluginArgs }[] = [];
  const pcRaw = sched.pluginConfig ?? [];
  if (!Array.isArray(pcRaw)) problems.push('scheduler.pluginConfig: must be a list');
  else
    pcRaw.forEach((pc, i) => {
      if (!isObj(pc) || typeof pc.name !== 'string') {
        problems.push(`scheduler.pluginConfig[${i}]: needs a string "name"`);
        return;
      }
      if (pc.args !== undefined && !isObj(pc.args))
        problems.push(`scheduler.pluginConfig[${i}].args: must be a mapping`);
      if (!registry.get(pc.name))
        problems.push(unknown(`scheduler.pluginConfig[${i}].name`, pc.name, registry.names()));
      pluginConfig.push({ name: pc.name, args: (isObj(pc.args) ? pc.args : {}) as PluginArgs });
    });

  const plugins = sched.plugins ?? {};
  if (!isObj(plugins)) problems.push('scheduler.plugins: must be a mapping');
  const section = (key: 'Filter' | 'Score'): unknown[] => {
    const s = isObj(plugins) ? plugins[key] : undefined;
    if (s === undefined || s === null) return [];
    if (!isObj(s)) {
      problems.push(`scheduler.plugins.${key}: must be a mapping`);
      return [];
    }
    const enabled = s.enabled ?? [];
    if (!Array.isArray(enabled)) {
      problems.push(`scheduler.plugins.${key}.enabled: must be a list`);
      return [];
    }
    return enabled;
  };

  const filters: string[] = [];
  for (const [i, f] of section('Filter').entries()) {
    const name = typeof f === 'string' ? f : isObj(f) && typeof f.name === 'string' ? f.name : undefined;
    const path = `scheduler.plugins.Filter.enabled[${i}]`;
    if (!name) problems.push(`${path}: must be a plugin name`);
    else if (!registry.get(name)?.roles.includes('filter'))
      problems.push(unknown(path, name, registry.names('filter')));
    else if (!filters.includes(name)) filters.push(name);
  }

  const scoreMap = new Map<string, number>();
  for (const [i, s] of section('Score').entries()) {
    const path = `scheduler.plugins.Score.enabled[${i}]`;
    const name = typeof s === 'string' ? s : isObj(s) && typeof s.name === 'string' ? s.name : undefined;
    const w = isObj(s) && s.weight !== undefined ? Number(s.weight) : 1;
    if (!name) problems.push(`${path}: needs a string "name"`);
    else if (!registry.get(name)?.roles.includes('score')) problems.push(unknown(path, name, registry.names('score')));
    else if (!Number.isInteger(w)) problems.push(`${path}.weight: must be an integer, got ${JSON.stringify(s)}`);
    else {
      scoreMap.delete(name); // duplicates collapse, last wins (upstream)
      scoreMap.set(name, Math.max(0, w)); // negative weights clamp to 0 (upstream)
    }
  }

  let topN = 5;
  if (sched.topN !== undefined) {
    topN = Number(sched.topN);
    if (!Number.isInteger(topN) || topN < 1) problems.push('scheduler.topN: must be an integer ≥ 1');
  }
  if (doc.auth !== undefined && !isObj(doc.auth)) problems.push('auth: must be a mapping');
  if (doc.limits !== undefined && !isObj(doc.limits)) problems.push('limits: must be a mapping');
  if (problems.length) throw new ConfigError(`invalid router configuration:\n  ${problems.join('\n  ')}`);

  return {
    scheduler: { pluginConfig, filters, scores: [...scoreMap].map(([name, weight]) => ({ name, weight })), topN },
    auth: isObj(doc.auth) ? doc.auth : undefined,
    limits: isObj(doc.limits) ? doc.limits : undefined,
  };
}

function unknown(path: string, name: string, known: string[]): string {
  return `${path}: unknown plugin "${name}" (known: ${known.join(', ')})`;
}

export interface BuiltScheduler {
  scheduler: Scheduler;
  warnings: string[];
}

export async function buildScheduler(
  cfg: RouterConfiguration,
  registry: PluginRegistry,
  deps: PluginDeps,
): Promise<BuiltScheduler> {
  const warnings: string[] = [];
  const instances = new Map<string, SchedulerPlugin>();
  const argsOf = (name: string): PluginArgs => {
    let args: PluginArgs = {};
    for (const pc of cfg.scheduler.pluginConfig) if (pc.name === name) args = pc.args;
    return args;
  };
  const instance = async (name: string): Promise<SchedulerPlugin> => {
    let p = instances.get(name);
    if (!p) {
      try {
        p = await registry.get(name)!.create(argsOf(name), deps);
      } catch (e) {
        throw new ConfigError(`plugin "${name}": ${(e as Error).message}`);
      }
      instances.set(name, p);
    }
    return p;
  };
  let scores = cfg.scheduler.scores;
  if (scores.length > 1 && scores.some((s) => s.name === 'random')) {
    warnings.push('score plugin "random" only runs alone; it was removed because other score plugins are enabled');
    scores = scores.filter((s) => s.name !== 'random');
  }
  const filters: SchedulerPlugin[] = [];
  for (const f of cfg.scheduler.filters) filters.push(await instance(f));
  const scorers = [];
  for (const s of scores) scorers.push({ plugin: await instance(s.name), weight: s.weight });
  // Plugins only named in pluginConfig are still validated (bad args fail at start-up).
  for (const pc of cfg.scheduler.pluginConfig) await instance(pc.name);
  return {
    scheduler: new Scheduler({ filters, scorers, topN: cfg.scheduler.topN, metrics: deps.metrics, rand: deps.rand }),
    warnings,
  };
}
