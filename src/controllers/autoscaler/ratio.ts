// Prefill/decode ratio enforcement (reference §4.6): after each role has its corrected count, keep
// numerator/denominator within [minRatio, maxRatio] by raising the smaller side where its bounds allow, else by
// capping at the maximum and pulling the other side down. Pure.

export interface RoleBounds {
  min: number;
  max: number;
}

export interface RatioConstraint {
  minRatio: number;
  maxRatio: number;
}

export interface RatioResult {
  num: number;
  den: number;
  adjusted: boolean;
  /** num/den as the shortest decimal; '' when den is 0. */
  ratio: string;
}

const clamp = (v: number, b: RoleBounds) => Math.min(b.max, Math.max(b.min, v));

export function enforceRatio(
  numIn: number,
  denIn: number,
  nb: RoleBounds,
  db: RoleBounds,
  c: RatioConstraint | undefined,
): RatioResult {
  let num = clamp(numIn, nb);
  let den = clamp(denIn, db);
  let adjusted = false;
  if (c && !(num === 0 && den === 0)) {
    // A side at zero with the other serving would make the ratio meaningless: seed it with one.
    if (num === 0) {
      num = clamp(1, nb);
      adjusted = true;
    } else if (den === 0) {
      den = clamp(1, db);
      adjusted = true;
    }
    const r = den === 0 ? Infinity : num / den;
    if (r < c.minRatio) {
      const want = Math.max(nb.min, Math.ceil(c.minRatio * den));
      if (want <= nb.max) num = Math.max(num, want);
      else {
        num = nb.max;
        den = clamp(Math.floor(num / c.minRatio), db);
      }
      adjusted = true;
    } else if (r > c.maxRatio) {
      if (c.maxRatio <= 0) num = 0;
      else {
        const want = Math.max(db.min, Math.ceil(num / c.maxRatio));
        if (want <= db.max) den = Math.max(den, want);
        else {
          den = db.max;
          num = clamp(Math.floor(c.maxRatio * den), nb);
        }
      }
      adjusted = true;
    }
    num = clamp(num, nb);
    den = clamp(den, db);
  }
  return { num, den, adjusted, ratio: den === 0 ? '' : String(num / den) };
}
