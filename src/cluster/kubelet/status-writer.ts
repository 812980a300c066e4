// Writes a pod's status to the API server: latest wins, one write in flight per pod, identical statuses skipped,
// transient failures retried. A pod that no longer exists (404) stops the writer.
import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import { KubeApiError, type KubeClient, PODS } from '../../kube/index.js';
import type { Timers } from './timers.js';

export class PodStatusWriter {
  private latest?: PodStatus;
  private lastWritten?: string;
  private inflight?: Promise<void>;
  private gone = false;

  constructor(
    private readonly client: KubeClient,
    private readonly pod: Pod,
    private readonly timers: Timers,
    private readonly onError: (err: unknown) => void,
  ) {}

  set(status: PodStatus): void {
    this.latest = status;
    this.inflight ??= this.flush().finally(() => {
      this.inflight = undefined;
    });
  }

  /** Resolves once everything set so far has been written (or given up on). */
  async drain(): Promise<void> {
    while (this.inflight) await this.inflight;
  }

  private async flush(): Promise<void> {
    let failures = 0;
    while (!this.gone && this.latest) {
      const body = JSON.stringify(this.latest);
      if (body === this.lastWritten) return;
      try {
        await this.client.patch(
          PODS,
          this.pod.metadata?.name ?? '',
          this.pod.metadata?.namespace,
          { status: this.latest },
          'merge',
          { subresource: 'status' },
        );
        this.lastWritten = body;
        failures = 0;
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) {
          this.gone = true;
          return;
        }
        this.onError(err);
        if (++failures > 5) return; // the next change tries again
        await new Promise<void>((r) => this.timers.setTimeout(r, 200 * 2 ** failures));
      }
    }
  }
}
