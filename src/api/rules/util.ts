// Defensive accessors for the semantic rules: they run on objects the schema may already have rejected, so
// every read tolerates a wrong shape instead of throwing.

export function obj(v: unknown): Record<string, any> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, any>) : undefined;
}

export function list(v: unknown): any[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function int(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

export function entries(v: unknown): Array<[string, any]> {
  const o = obj(v);
  return o ? Object.entries(o) : [];
}

/** Go's regexp is RE2; these JS-only constructs would compile here but be rejected upstream. */
const NOT_RE2 = [
  [/\(\?[=!]/, 'lookahead (?= / (?!'],
  [/\(\?<[=!]/, 'lookbehind (?<= / (?<!'],
  [/\\[1-9]/, 'backreferences (\\1)'],
] as const;

/**
 * Compiles a Go (RE2) regular expression as a JS RegExp, unanchored like Go's MatchString. Leading inline
 * flags `(?i)`, `(?s)`, `(?m)` become JS flags. Returns an error message for patterns RE2 would reject.
 */
export function compileRe2(pattern: string): { regex: RegExp } | { error: string } {
  for (const [re, what] of NOT_RE2) {
    if (re.test(pattern)) return { error: `uses ${what}, which Go's RE2 syntax does not support` };
  }
  let flags = '';
  let body = pattern;
  const m = /^\(\?([imsU]+)\)/.exec(body);
  if (m) {
    if (m[1].includes('U')) return { error: 'the (?U) flag is not supported' };
    flags = [...new Set(m[1])].join('');
    body = body.slice(m[0].length);
  }
  if (/\(\?[imsU-]+[:)]/.test(body)) return { error: 'inline flags are only supported at the start of the pattern' };
  // RE2's named groups (?P<name>…) are (?<name>…) in JS.
  body = body.replace(/\(\?P</g, '(?<');
  try {
    return { regex: new RegExp(body, flags) };
  } catch (e) {
    return { error: e instanceof Error ? e.message.replace(/^Invalid regular expression: /, '') : String(e) };
  }
}
