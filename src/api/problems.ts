// Problems (errors and warnings) with Kubernetes-style field paths: `spec.rules[0].targetModels[1].weight`,
// map entries as `metadata.labels[app.kubernetes.io/name]`.

export interface Problem {
  path: string;
  message: string;
}

export type PathSeg = string | number | { key: string };

export function formatPath(segs: readonly PathSeg[]): string {
  let out = '';
  for (const s of segs) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (typeof s === 'string') out += out === '' ? s : `.${s}`;
    else out += `[${s.key}]`;
  }
  return out;
}

/** Most problems one document may report before the rest are summarised (a 10,000-item array stays readable). */
export const MAX_PROBLEMS_PER_DOCUMENT = 100;

export class ProblemSink {
  readonly errors: Problem[] = [];
  readonly warnings: Problem[] = [];
  private dropped = 0;
  private finished = false;

  error(path: readonly PathSeg[] | string, message: string): void {
    if (this.errors.length >= MAX_PROBLEMS_PER_DOCUMENT) {
      this.dropped++;
      return;
    }
    this.errors.push({ path: typeof path === 'string' ? path : formatPath(path), message });
  }

  warn(path: readonly PathSeg[] | string, message: string): void {
    if (this.warnings.length >= MAX_PROBLEMS_PER_DOCUMENT) return;
    this.warnings.push({ path: typeof path === 'string' ? path : formatPath(path), message });
  }

  get full(): boolean {
    return this.errors.length >= MAX_PROBLEMS_PER_DOCUMENT;
  }

  /** Adds a closing line when errors were cut off (the walk stops early, so the rest are not even counted). */
  finish(): { errors: Problem[]; warnings: Problem[] } {
    if (this.full && !this.finished) {
      this.errors.push({
        path: '',
        message: `stopped after ${MAX_PROBLEMS_PER_DOCUMENT} errors${this.dropped > 0 ? ` (at least ${this.dropped} more)` : ''}; fix these and run again`,
      });
    }
    this.finished = true;
    return { errors: this.errors, warnings: this.warnings };
  }
}

/** Short, human description of a value for messages: `string "abc"`, `number 1.5`, `array`, `null`. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  switch (typeof v) {
    case 'string':
      return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
    case 'number':
      return `number ${v}`;
    case 'boolean':
      return `boolean ${v}`;
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}
