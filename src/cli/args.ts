// Option parsers shared by the subcommands: a bad value is a commander usage error naming the flag.
import { InvalidArgumentError } from 'commander';

/** A whole number from `min` to `max` (a minus sign only when `min` is negative; no fraction, no exponent). */
export function intArg(name: string, min: number, max: number) {
  return (v: string): number => {
    if (!(min < 0 ? /^-?\d+$/ : /^\d+$/).test(v)) throw new InvalidArgumentError(`${name} must be an integer`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max}`);
    return n;
  };
}

/** A finite number above zero (fractions allowed). */
export function positiveArg(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (v.trim() === '' || !Number.isFinite(x) || x <= 0)
      throw new InvalidArgumentError(`${name} must be a positive number`);
    return x;
  };
}
