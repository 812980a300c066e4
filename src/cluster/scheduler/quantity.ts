// Kubernetes resource quantities ("500m", "16Gi", "1e3", "8") as plain numbers.
// The scheduler only compares and adds quantities, so a float in base units is enough; cpu is
// handled in millicores (integers) to keep sums exact for the common cases.

const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|[numkMGTPE]?)$/;

/** Parses a quantity into base units (cores, bytes, counts). Throws on malformed input. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') {
    if (!Number.isFinite(q)) throw new Error(`invalid quantity ${q}`);
    return q;
  }
  const m = QUANTITY.exec(String(q).trim());
  if (!m) throw new Error(`invalid quantity "${q}"`);
  const n = Number(m[1]);
  const suffix = m[2];
  if (suffix in BINARY) return n * BINARY[suffix];
  if (suffix in DECIMAL) return n * DECIMAL[suffix];
  return n * 10 ** Number(suffix.slice(1)); // decimal exponent: e3, E-2
}

/** Canonical integer amount for a resource: cpu in millicores, everything else in base units (rounded up). */
export function canonicalAmount(resource: string, q: string | number): number {
  const v = parseQuantity(q);
  return resource === 'cpu' ? Math.ceil(Math.round(v * 1e6) / 1e3) : Math.ceil(v);
}

/** Formats a canonical amount back to a quantity string (for messages and node objects). */
export function formatAmount(resource: string, amount: number): string {
  if (resource === 'cpu') return amount % 1000 === 0 ? String(amount / 1000) : `${amount}m`;
  if (resource === 'memory' || resource.includes('storage')) {
    for (const [s, f] of [
      ['Gi', BINARY.Gi],
      ['Mi', BINARY.Mi],
      ['Ki', BINARY.Ki],
    ] as const) {
      if (amount >= f && amount % f === 0) return `${amount / f}${s}`;
    }
  }
  return String(amount);
}
