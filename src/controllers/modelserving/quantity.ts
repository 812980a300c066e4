// Kubernetes resource quantities, just enough to sum container requests into a PodGroup's minResources.
// Values are held as integer milli-units (bigint) so sums are exact; sub-milli values round up, as
// Kubernetes does when it canonicalises to milli precision.

const BINARY: Record<string, bigint> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
};
const DECIMAL_EXP: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

export interface Milli {
  milli: bigint;
  binary: boolean;
}

const RE = /^([+-]?[0-9]*\.?[0-9]*)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$/;

export function parseQuantity(q: string | number): Milli {
  const s = String(q).trim();
  const m = RE.exec(s);
  if (!m || m[1] === '' || m[1] === '.' || m[1] === '+' || m[1] === '-')
    throw new Error(`invalid quantity ${JSON.stringify(q)}`);
  const [intPart, fracPart = ''] = m[1].replace(/^[+]/, '').split('.');
  const negative = intPart.startsWith('-');
  const digits = BigInt((intPart.replace('-', '') || '0') + fracPart);
  const suffix = m[2] ?? '';
  // value = digits × 10^(-fracLen) × multiplier; we want milli = value × 1000.
  let num = digits;
  let den = 10n ** BigInt(fracPart.length);
  let binary = false;
  if (suffix in BINARY) {
    num *= BINARY[suffix];
    binary = true;
  } else {
    const exp = suffix in DECIMAL_EXP ? DECIMAL_EXP[suffix] : Number(suffix.slice(1));
    if (!Number.isSafeInteger(exp) || Math.abs(exp) > 30) throw new Error(`invalid quantity ${JSON.stringify(q)}`);
    if (exp >= 0) num *= 10n ** BigInt(exp);
    else den *= 10n ** BigInt(-exp);
  }
  num *= 1000n;
  let milli = num / den;
  if (milli * den !== num) milli += 1n; // round up sub-milli remainders
  return { milli: negative ? -milli : milli, binary };
}

export function addQuantities(a: Milli, b: Milli): Milli {
  return { milli: a.milli + b.milli, binary: a.binary || b.binary };
}

export function scaleQuantity(a: Milli, n: number): Milli {
  return { milli: a.milli * BigInt(n), binary: a.binary };
}

/** Canonical-ish text: whole numbers plainly (or with the largest exact binary suffix), fractions in milli. */
export function formatQuantity(q: Milli): string {
  if (q.milli % 1000n !== 0n) return `${q.milli}m`;
  const whole = q.milli / 1000n;
  if (q.binary && whole !== 0n) {
    for (const suffix of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki']) {
      const unit = BINARY[suffix];
      if (whole % unit === 0n) return `${whole / unit}${suffix}`;
    }
  }
  return `${whole}`;
}
