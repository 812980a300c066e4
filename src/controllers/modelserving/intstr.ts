// IntOrString resolution the way Kubernetes does it (intstr.GetScaledValueFromIntOrPercent).
import type { IntOrString } from './types.js';

/** Parses `N` or `N%`; throws on anything else (negative numbers, fractions, junk). */
export function parseIntOrPercent(v: IntOrString): { value: number; percent: boolean } {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) throw new Error(`invalid value ${v}: must be a non-negative integer`);
    return { value: v, percent: false };
  }
  const m = /^([0-9]+)%$/.exec(v);
  if (m) return { value: Number(m[1]), percent: true };
  if (/^[0-9]+$/.test(v)) return { value: Number(v), percent: false };
  throw new Error(`invalid value ${JSON.stringify(v)}: must be an integer or a percentage like "25%"`);
}

/** A percentage is taken of `total` and rounded up or down; a plain number is returned as is. */
export function scaledValue(v: IntOrString | undefined, total: number, roundUp: boolean, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  const p = parseIntOrPercent(v);
  if (!p.percent) return p.value;
  const exact = (p.value * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}
