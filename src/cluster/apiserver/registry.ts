// The set of served resource types: built-ins plus one entry per established CRD. Discovery,
// OpenAPI and request routing all read from here; CRD writes update it synchronously.
import { builtinTypes } from './builtins.js';
import { compareKubeVersions, crdToType } from './crd.js';
import { type ResourceType, resourceKey } from './types.js';
import type { Obj } from './util.js';

export class Registry {
  private readonly builtins: ResourceType[] = builtinTypes();
  private readonly crdTypes = new Map<string, ResourceType>();
  private index = new Map<string, ResourceType>();
  private readonly byKey = new Map<string, ResourceType>();
  /** Bumped on every change of the served set (drives OpenAPI hashes and discovery caches). */
  generation = 1;

  constructor() {
    this.rebuild();
  }

  private rebuild(): void {
    this.index = new Map();
    for (const t of this.all()) {
      for (const v of t.versions) this.index.set(`${t.group}/${v}/${t.plural}`, t);
      this.byKey.set(resourceKey(t), t);
    }
    this.generation++;
  }

  all(): ResourceType[] {
    return [...this.builtins, ...this.crdTypes.values()];
  }

  lookup(group: string, version: string, plural: string): ResourceType | undefined {
    return this.index.get(`${group}/${version}/${plural}`);
  }

  byResourceKey(rk: string): ResourceType | undefined {
    return this.byKey.get(rk);
  }

  builtin(group: string, plural: string): ResourceType {
    const t = this.builtins.find((b) => b.group === group && b.plural === plural);
    if (!t) throw new Error(`no built-in ${plural}.${group}`);
    return t;
  }

  /** Registers, updates or withdraws the type served by a CRD (after any CRD write). */
  syncCrd(crd: Obj): void {
    const name = crd.metadata.name as string;
    const t = crdToType(crd);
    if (t) this.crdTypes.set(name, t);
    else this.crdTypes.delete(name);
    if (!t) {
      const group = crd.spec?.group;
      const plural = crd.spec?.names?.plural;
      if (group && plural && ![...this.crdTypes.values()].some((x) => x.group === group && x.plural === plural))
        this.byKey.delete(`${group}/${plural}`);
    }
    this.rebuild();
  }

  removeCrd(name: string): void {
    const t = this.crdTypes.get(name);
    this.crdTypes.delete(name);
    if (t) this.byKey.delete(resourceKey(t));
    this.rebuild();
  }

  crdType(name: string): ResourceType | undefined {
    return this.crdTypes.get(name);
  }

  /** Groups in discovery order: the core group is separate; built-in groups first, then CRD groups sorted. */
  groups(): { name: string; versions: string[] }[] {
    const builtinGroups: string[] = [];
    const crdGroups: string[] = [];
    const versions = new Map<string, Set<string>>();
    for (const t of this.all()) {
      if (t.group === '') continue;
      if (!versions.has(t.group)) {
        versions.set(t.group, new Set());
        (t.builtin ? builtinGroups : crdGroups).push(t.group);
      }
      for (const v of t.versions) versions.get(t.group)!.add(v);
    }
    crdGroups.sort();
    return [...builtinGroups, ...crdGroups.filter((g) => !builtinGroups.includes(g))].map((name) => ({
      name,
      versions: [...versions.get(name)!].sort(compareKubeVersions),
    }));
  }

  typesIn(group: string, version: string): ResourceType[] {
    return this.all()
      .filter((t) => t.group === group && t.versions.includes(version))
      .sort((a, b) => (a.plural < b.plural ? -1 : a.plural > b.plural ? 1 : 0));
  }
}
