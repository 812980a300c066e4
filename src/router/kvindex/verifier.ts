// Self-verification of KV awareness: the router predicts, at dispatch, how many prompt tokens the chosen engine will
// find in its prefix cache; the engine reports what it actually found (usage.prompt_tokens_details.cached_tokens).
// A persistent gap means the router's view is wrong — block size or hash seed differ from the engines', events are
// lost, or the tokenizer differs — and cache-aware scoring is then steering blind. We keep an exponentially weighted
// mean of |predicted − reported| / prompt tokens per model, export it, and warn (rate-limited) when it stays high.

export interface VerifierSink {
  observe(model: string, predicted: number, reported: number, relError: number): void;
}

export interface VerifierOptions {
  /** Weight of each new sample in the moving average. */
  alpha?: number;
  /** Mean relative error above which we warn. */
  warnAbove?: number;
  /** Samples needed before warning. */
  minSamples?: number;
  /** Samples between two warnings for the same model. */
  warnEvery?: number;
  log?: { warn(obj: object, msg: string): void };
  sink?: VerifierSink;
}

interface ModelStats {
  samples: number;
  meanRelError: number;
  meanSigned: number;
  lastWarnAt: number;
}

export class PredictionVerifier {
  private readonly stats = new Map<string, ModelStats>();
  sink: VerifierSink | undefined;
  warnings = 0;

  constructor(private readonly opts: VerifierOptions = {}) {
    this.sink = opts.sink;
  }

  record(model: string, predicted: number, reported: number, promptTokens: number): void {
    const alpha = this.opts.alpha ?? 0.05;
    const rel = Math.abs(predicted - reported) / Math.max(1, promptTokens);
    const signed = (predicted - reported) / Math.max(1, promptTokens);
    let s = this.stats.get(model);
    if (!s) {
      s = { samples: 0, meanRelError: rel, meanSigned: signed, lastWarnAt: Number.NEGATIVE_INFINITY };
      this.stats.set(model, s);
    }
    s.samples++;
    s.meanRelError += alpha * (rel - s.meanRelError);
    s.meanSigned += alpha * (signed - s.meanSigned);
    this.sink?.observe(model, predicted, reported, rel);
    const warnAbove = this.opts.warnAbove ?? 0.2;
    if (
      s.samples >= (this.opts.minSamples ?? 50) &&
      s.meanRelError > warnAbove &&
      s.samples - s.lastWarnAt >= (this.opts.warnEvery ?? 1000)
    ) {
      s.lastWarnAt = s.samples;
      this.warnings++;
      this.opts.log?.warn(
        {
          model,
          meanRelError: round(s.meanRelError),
          direction: s.meanSigned > 0 ? 'router over-predicts cache hits' : 'router under-predicts cache hits',
        },
        'KV-aware routing disagrees with the engines about cached tokens: check the block size and hash seed ' +
          'match the engines, that KV events reach the router (lost events), and that the tokenizer matches',
      );
    }
  }

  meanRelError(model: string): number | undefined {
    return this.stats.get(model)?.meanRelError;
  }

  snapshot(): Record<string, { samples: number; meanRelError: number; meanSigned: number }> {
    const out: Record<string, { samples: number; meanRelError: number; meanSigned: number }> = {};
    for (const [m, s] of this.stats)
      out[m] = { samples: s.samples, meanRelError: round(s.meanRelError), meanSigned: round(s.meanSigned) };
    return out;
  }
}

const round = (v: number) => Math.round(v * 1e4) / 1e4;
