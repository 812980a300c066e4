// Maps upstream's plugin names to their factories and builds the chain a ModelServing asks for.
import type { ModelServing, PluginSpec } from '../types.js';
import { demoPodTweaks } from './demo-pod-tweaks.js';
import { lwsStandardLabels } from './lws-standard-labels.js';
import type { ModelServingPlugin, PluginFactory, PodHookRequest } from './types.js';

export const builtInPlugins: ReadonlyMap<string, PluginFactory> = new Map([
  ['demo-pod-tweaks', demoPodTweaks],
  ['lws-standard-labels', lwsStandardLabels],
]);

interface ChainEntry {
  plugin: ModelServingPlugin;
  scope: PluginSpec['scope'];
}

export class PluginChain {
  constructor(private readonly entries: ChainEntry[]) {}

  get size(): number {
    return this.entries.length;
  }

  private applies(scope: PluginSpec['scope'], req: PodHookRequest): boolean {
    if (scope?.roles && scope.roles.length > 0 && !scope.roles.includes(req.roleName)) return false;
    switch (scope?.target ?? '') {
      case 'Entry':
        return req.isEntry;
      case 'Worker':
        return !req.isEntry;
      default:
        return true;
    }
  }

  onPodCreate(req: PodHookRequest): void {
    for (const e of this.entries) if (e.plugin.onPodCreate && this.applies(e.scope, req)) e.plugin.onPodCreate(req);
  }

  onPodReady(req: PodHookRequest): void {
    for (const e of this.entries) if (e.plugin.onPodReady && this.applies(e.scope, req)) e.plugin.onPodReady(req);
  }
}

/** Builds the chain in list order; an unknown name or a non-BuiltIn type is an error (pod creation then fails). */
export function buildPluginChain(
  ms: ModelServing,
  registry: ReadonlyMap<string, PluginFactory> = builtInPlugins,
): PluginChain {
  const entries: ChainEntry[] = [];
  for (const spec of ms.spec.plugins ?? []) {
    const type = spec.type ?? 'BuiltIn';
    if (type !== 'BuiltIn') throw new Error(`plugin ${spec.name}: unsupported type ${JSON.stringify(type)}`);
    const factory = registry.get(spec.name);
    if (!factory) throw new Error(`plugin ${JSON.stringify(spec.name)} is not registered`);
    entries.push({ plugin: factory(spec.name, spec.config), scope: spec.scope });
  }
  return new PluginChain(entries);
}
