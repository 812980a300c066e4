// A small Prometheus text-format (0.0.4) parser for engine /metrics. It scans line by line and keeps only the samples
// whose metric name passes `want`, so a large exposition costs one pass and few allocations.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseValue(s: string): number {
  switch (s) {
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    case 'NaN':
      return NaN;
    default:
      return s === '' ? NaN : Number(s);
  }
}

/** Parses `{a="x",b="y\"z"}` starting at text[i] === '{'; returns labels and the index after '}'. */
function parseLabels(line: string, start: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let i = start + 1;
  const n = line.length;
  while (i < n) {
    while (i < n && (line[i] === ' ' || line[i] === ',')) i++;
    if (line[i] === '}') return [labels, i + 1];
    const eq = line.indexOf('=', i);
    if (eq < 0) throw new Error('label without "="');
    const key = line.slice(i, eq).trim();
    i = eq + 1;
    while (line[i] === ' ') i++;
    if (line[i] !== '"') throw new Error(`label ${key}: value must be quoted`);
    i++;
    let v = '';
    for (;;) {
      if (i >= n) throw new Error(`label ${key}: unterminated value`);
      const c = line[i];
      if (c === '\\') {
        const next = line[i + 1];
        v += next === 'n' ? '\n' : next === '\\' ? '\\' : next === '"' ? '"' : `\\${next ?? ''}`;
        i += 2;
      } else if (c === '"') {
        i++;
        break;
      } else {
        v += c;
        i++;
      }
    }
    labels[key] = v;
  }
  throw new Error('unterminated label set');
}

/**
 * All samples whose name satisfies `want` (default: every sample). Malformed lines are skipped, not fatal: one bad
 * series from an engine must not blind the scheduler to the rest.
 */
export function parsePrometheusText(text: string, want: (name: string) => boolean = () => true): Sample[] {
  const out: Sample[] = [];
  let pos = 0;
  const len = text.length;
  while (pos < len) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = len;
    let line = text.slice(pos, end);
    pos = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    let i = 0;
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (i >= line.length || line[i] === '#') continue;
    let j = i;
    while (j < line.length && line[j] !== '{' && line[j] !== ' ' && line[j] !== '\t') j++;
    const name = line.slice(i, j);
    if (!want(name)) continue;
    try {
      let labels: Record<string, string> = {};
      if (line[j] === '{') [labels, j] = parseLabels(line, j);
      const rest = line
        .slice(j)
        .trim()
        .split(/[ \t]+/);
      const value = parseValue(rest[0] ?? '');
      if (Number.isNaN(value) && rest[0] !== 'NaN') continue;
      out.push({ name, labels, value });
    } catch {
      // skip the malformed line
    }
  }
  return out;
}
