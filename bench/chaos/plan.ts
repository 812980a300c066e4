// The chaos soak's pure parts: the seeded fault schedule, request outcome classification and the invariant verdicts.
// No I/O here, so a schedule can be replayed from its seed and every verdict is unit-tested.
import { seededRandom } from '../../src/twin/index.js';

export const FAULT_KINDS = [
  'engine-sigkill',
  'engine-sigstop',
  'scale',
  'route-weight',
  'controller-manager-sigkill',
  'slow-clients',
  'aborting-clients',
  'api-server-restart',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface PlannedFault {
  /** Earliest start, ms after the load began (a fault never starts before the previous one ended). */
  atMs: number;
  kind: FaultKind;
  /** A number in [0, 1) the executor turns into its choice (which engine, which weight, how long). */
  pick: number;
}

/**
 * Faults every `gapMs` from `warmupMs`, leaving `cooldownMs` at the end without any; kinds come in seeded shuffled
 * rounds, so a run long enough for one round injects each kind at least once.
 */
export function planFaults(o: {
  seconds: number;
  seed: number;
  kinds: readonly FaultKind[];
  gapMs?: number;
  warmupMs?: number;
  cooldownMs?: number;
}): PlannedFault[] {
  const gap = o.gapMs ?? 3000;
  const warmup = o.warmupMs ?? 2000;
  const cooldown = o.cooldownMs ?? 3000;
  const rand = seededRandom(o.seed);
  const out: PlannedFault[] = [];
  let round: FaultKind[] = [];
  for (let at = warmup; at <= o.seconds * 1000 - cooldown && o.kinds.length > 0; at += gap) {
    if (round.length === 0) {
      round = [...o.kinds];
      for (let i = round.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [round[i], round[j]] = [round[j], round[i]];
      }
    }
    out.push({ atMs: at, kind: round.shift() as FaultKind, pick: rand() });
  }
  return out;
}

/** How one client request ended. */
export interface RequestOutcome {
  /** HTTP status, or 0 when no response arrived. */
  status: number;
  /** Bytes of the body received before the end. */
  firstByte: boolean;
  /** The stream ended with `data: [DONE]` and no SSE error event. */
  done: boolean;
  /** The client itself gave up (an aborting client): never counted as lost. */
  abortedByClient: boolean;
}

export type OutcomeClass = 'ok' | 'lost-before-first-byte' | 'cut-mid-stream' | 'client-abort';

export function classify(r: RequestOutcome): OutcomeClass {
  if (r.abortedByClient) return 'client-abort';
  if (r.status === 200 && r.done) return 'ok';
  return r.status === 200 && r.firstByte ? 'cut-mid-stream' : 'lost-before-first-byte';
}

export interface Invariant {
  name: string;
  held: boolean;
  detail: string;
}

export interface Verdicts {
  counts: Record<OutcomeClass, number>;
  midStreamFailover: boolean;
  /** Router gauges read after the load stopped (and the faults cleared). */
  inflightAtEnd: Record<string, number>;
  /** Processes seen during the run (engines, the control plane's parts) still alive after shutdown. */
  orphans: string[];
  /** ModelServings whose pods and status matched their spec after the faults, or what did not. */
  notConverged: string[];
  /** Acknowledged writes whose value was not there at the end. */
  lostWrites: string[];
  /** Requests completed (a soak that served nothing proves nothing). */
  minOk: number;
}

export function judge(v: Verdicts): Invariant[] {
  const lost = v.counts['lost-before-first-byte'];
  const cut = v.counts['cut-mid-stream'];
  const gauges = Object.entries(v.inflightAtEnd).filter(([, n]) => n !== 0);
  return [
    {
      name: 'no request lost before its first byte',
      held: lost === 0,
      detail: `${lost} of ${total(v.counts)} requests`,
    },
    {
      name: v.midStreamFailover
        ? 'no stream cut (mid-stream failover on)'
        : 'streams cut mid-way (failover off: reported)',
      held: v.midStreamFailover ? cut === 0 : true,
      detail: `${cut} cut`,
    },
    {
      name: 'requests served',
      held: v.counts.ok >= v.minOk,
      detail: `${v.counts.ok} completed with [DONE] (${v.counts['client-abort']} aborted by their clients)`,
    },
    {
      name: 'router in-flight gauges back to 0',
      held: gauges.length === 0,
      detail: gauges.length ? gauges.map(([k, n]) => `${k}=${n}`).join(', ') : 'all 0',
    },
    {
      name: 'no orphan process',
      held: v.orphans.length === 0,
      detail: v.orphans.length ? v.orphans.join(', ') : 'none alive after shutdown',
    },
    {
      name: 'ModelServings converge to spec',
      held: v.notConverged.length === 0,
      detail: v.notConverged.length ? v.notConverged.join('; ') : 'pods Ready, status = spec',
    },
    {
      name: 'no acknowledged write lost',
      held: v.lostWrites.length === 0,
      detail: v.lostWrites.length ? v.lostWrites.join('; ') : 'last written values all there',
    },
  ];
}

const total = (c: Record<OutcomeClass, number>) => Object.values(c).reduce((a, b) => a + b, 0);

/** Sums Prometheus text samples by metric name (labels folded): the gauges we need are plain numbers. */
export function sumMetrics(text: string, names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] in out) out[m[1]] += Number(m[3]);
  }
  return out;
}

/** Sums one metric's samples by the value of one label: `{ok: 812, connect_error: 3}`. */
export function sumByLabel(text: string, metric: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  const re = new RegExp(`${label}="([^"]*)"`);
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== metric) continue;
    const v = re.exec(m[2] ?? '')?.[1] ?? '';
    out[v] = (out[v] ?? 0) + Number(m[3]);
  }
  return out;
}

/** A fixed-width text table. */
export function table(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (c ?? '').padEnd(w[i]))
      .join('  ')
      .trimEnd();
  return [line(header), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
}
