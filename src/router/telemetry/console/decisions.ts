// Recent scheduling decisions for the console, sampled when the page polls. The request handler keeps the last
// ranking per model by reference (its debug view); each poll reads it through lastScore and remembers rankings it
// has not seen yet, so the page shows a history without the hot path keeping one. Decisions made between two polls
// for the same model are not seen: the console says "sampled".
import type { RouterStore } from '../../store/store.js';

/** What the handler's lastScore gives for one endpoint. */
export interface ScoreSample {
  endpoint: string;
  total: number;
  perPlugin: Record<string, number>;
  at: string;
  model: string;
}

export interface Candidate {
  endpoint: string;
  /** passed: survived every filter and was scored; filtered: an endpoint of the chosen ModelServer left unscored. */
  verdict: 'passed' | 'filtered';
  rank: number | null;
  total: number | null;
  /** Each scorer's raw score (before its weight). */
  perPlugin: Record<string, number>;
}

export interface Decision {
  model: string;
  at: string;
  chosen: string | null;
  candidates: Candidate[];
}

const KEEP = 20;

export class DecisionLog {
  private readonly recent: Decision[] = [];

  constructor(private readonly keep = KEEP) {}

  /** Reads the newest rankings, adds the unseen ones to the history and returns it newest first. */
  sample(store: RouterStore, lastScore: (endpoint: string) => ScoreSample | null): Decision[] {
    for (const d of currentDecisions(store, lastScore)) {
      if (this.recent.some((r) => r.model === d.model && r.at === d.at)) continue;
      this.recent.push(d);
    }
    this.recent.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    while (this.recent.length > this.keep) this.recent.shift();
    return [...this.recent].reverse();
  }
}

/** The last ranking of every model, rebuilt from per-endpoint scores, with the targets that did not pass filters. */
export function currentDecisions(store: RouterStore, lastScore: (endpoint: string) => ScoreSample | null): Decision[] {
  const byDecision = new Map<string, ScoreSample[]>();
  for (const s of store.endpointStates()) {
    const sc = lastScore(s.key);
    if (!sc) continue;
    const k = `${sc.model}\u0000${sc.at}`;
    const list = byDecision.get(k) ?? [];
    list.push(sc);
    byDecision.set(k, list);
  }
  return [...byDecision.values()].map((scores) => {
    scores.sort((a, b) => b.total - a.total);
    const { model, at } = scores[0];
    const scored = new Set(scores.map((s) => s.endpoint));
    const filtered = unscoredSiblings(store, scored);
    return {
      model,
      at,
      chosen: scores[0].endpoint,
      candidates: [
        ...scores.map((s, i) => ({
          endpoint: s.endpoint,
          verdict: 'passed' as const,
          rank: i + 1,
          total: round(s.total),
          perPlugin: Object.fromEntries(Object.entries(s.perPlugin).map(([k, v]) => [k, round(v)])),
        })),
        ...filtered.map((endpoint) => ({
          endpoint,
          verdict: 'filtered' as const,
          rank: null,
          total: null,
          perPlugin: {},
        })),
      ],
    };
  });
}

/**
 * The other endpoints of the ModelServers the ranked endpoints belong to: the route's weighted pick chose the
 * ModelServer before scheduling, so only its endpoints were candidates, and those missing from the ranking were
 * dropped by a filter (LoRA affinity, outlier ejection, ...).
 */
function unscoredSiblings(store: RouterStore, scored: ReadonlySet<string>): string[] {
  const v = store.view;
  const out = new Set<string>();
  for (const e of scored)
    for (const server of v.serversByEndpoint.get(e) ?? [])
      for (const sib of v.endpointsByServer.get(server) ?? []) if (!scored.has(sib.state.key)) out.add(sib.state.key);
  return [...out].sort();
}

const round = (v: number) => Math.round(v * 1000) / 1000;
