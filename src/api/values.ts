// Parsers for the scalar formats Kubernetes uses: Go durations, int-or-percent, resource quantities.

const DURATION_RE = /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60000,
  h: 3600000,
};

/** True for a Go `time.ParseDuration` string (`0` alone is also valid in Go). */
export function isGoDuration(s: string): boolean {
  return s === '0' || DURATION_RE.test(s);
}

/** A Go duration in milliseconds, or undefined when it does not parse. */
export function parseDurationMs(s: string): number | undefined {
  if (s === '0') return 0;
  if (!DURATION_RE.test(s)) return undefined;
  const sign = s.startsWith('-') ? -1 : 1;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(m[1]) * UNIT_MS[m[2]];
  return sign * total;
}

const QUANTITY_RE =
  /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?(?:\d+(?:\.\d*)?|\.\d+))?$/;
const SUFFIX: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** The numeric value of a resource.Quantity (`"500m"` → 0.5, `"8Gi"` → 8589934592), or undefined. */
export function parseQuantity(q: unknown): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  if (typeof q !== 'string') return undefined;
  const m = QUANTITY_RE.exec(q.trim());
  if (!m) return undefined;
  const base = Number(m[1]);
  const suf = m[2];
  if (!suf) return base;
  // A bare `E` is exa (10^18); `e3` / `E-2` are decimal exponents.
  if (suf.length > 1 && (suf[0] === 'e' || suf[0] === 'E')) return base * 10 ** Number(suf.slice(1));
  return base * SUFFIX[suf];
}

/**
 * Resolves an int-or-percent against a total: `2` → 2, `"25%"` of 10 → 2 (round down) or 3 (round up).
 * Returns an error string when the value is not a non-negative int or an `N%` with 0 ≤ N ≤ 100.
 */
export function resolveIntOrPercent(
  v: number | string,
  total: number,
  roundUp: boolean,
): { value: number } | { error: string } {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) return { error: `must be a non-negative integer or a percentage, got ${v}` };
    return { value: v };
  }
  const m = /^(\d+)%$/.exec(v);
  if (!m) {
    if (/^\d+$/.test(v)) return { value: Number(v) };
    return { error: `must be an integer or a percentage like "25%", got ${JSON.stringify(v)}` };
  }
  const pct = Number(m[1]);
  if (pct > 100) return { error: `percentage must be between 0% and 100%, got ${v}` };
  const raw = (pct * total) / 100;
  return { value: roundUp ? Math.ceil(raw) : Math.floor(raw) };
}
