// Kubernetes resource quantities ("500m", "16Gi", "1e3", "8") as plain numbers.
// The scheduler only compares and adds quantities, so a float in base units is enough; cpu is
// handled in millicores (integers) to keep sums exact for the common cases. Parsing itself is the API package's.
import { parseQuantity as parseQuantityOrUndefined } from '../../api/index.js';

/** Parses a quantity into base units (cores, bytes, counts). Throws on malformed input. */
export function parseQuantity(q: string | number): number {
  const v = parseQuantityOrUndefined(q);
  if (v === undefined) throw new Error(typeof q === 'number' ? `invalid quantity ${q}` : `invalid quantity "${q}"`);
  return v;
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
      ['Gi', 2 ** 30],
      ['Mi', 2 ** 20],
      ['Ki', 2 ** 10],
    ] as const) {
      if (amount >= f && amount % f === 0) return `${amount / f}${s}`;
    }
  }
  return String(amount);
}
