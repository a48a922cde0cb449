/**
 * Tells an outage of an endpoint from the failures of single requests. After `threshold`
 * consecutive failures with no success between them the breaker opens: the caller stops sending,
 * except one probe at a time, spaced by the retry policy (and any Retry-After). The first success,
 * probe or not, closes it. Pure state plus time arithmetic; whoever sends decides when to ask.
 */
import type { Clock } from '../clock.js';
import { misconfigurationOf, type Misconfiguration } from '../errors.js';
import type { RetryPolicy } from '../retry.js';

/**
 * What the breaker reports, for logs and metrics. `misconfiguration` is set when every failure
 * since the last success was an answer pointing at the settings (a 404 for every request, say):
 * most likely a configuration error rather than an outage, though it is waited out the same way.
 */
export interface BreakerObserver {
  /** Failures crossed the threshold: sending stops; the first probe goes out in `nextProbeInMs`. */
  opened?(info: { endpoint: string; cause: unknown; nextProbeInMs: number; misconfiguration?: Misconfiguration }): void;
  /** A probe failed while open; the next one goes out in `nextProbeInMs`. */
  probeFailed?(info: { endpoint: string; cause: unknown; nextProbeInMs: number; openForMs: number; misconfiguration?: Misconfiguration }): void;
  /** The endpoint answered again after `openForMs` of outage. */
  closed?(info: { endpoint: string; openForMs: number }): void;
}

export interface CircuitBreakerOptions {
  /** Names the endpoint in logs and metrics, e.g. `Target` or `schema registry`. */
  endpoint: string;
  /** Consecutive failures, across requests, that open the breaker. */
  threshold: number;
  /** Spacing of probes while open (attempt n = the n-th probe). */
  probePolicy: RetryPolicy;
  clock: Clock;
  observer?: BreakerObserver;
}

export class CircuitBreaker {
  private consecutiveFailures = 0;
  private failedProbes = 0;
  private openedAt: number | undefined;
  private nextProbeAt = 0;
  private probing = false;
  private successCount = 0;
  /** What every failure since the last success said of the settings; undefined once one said nothing. */
  private misconfiguration: Misconfiguration | undefined;

  constructor(private readonly options: CircuitBreakerOptions) {}

  /** True while the endpoint is considered down: only probes may be sent. */
  get isOpen(): boolean {
    return this.openedAt !== undefined;
  }

  /**
   * Successes seen so far. A request that fails after this number moved on failed while the
   * endpoint served others: that failure is the request's own, not the endpoint's.
   */
  get successes(): number {
    return this.successCount;
  }

  /** How long the breaker has been open (0 when closed). */
  openForMs(): number {
    return this.openedAt === undefined ? 0 : this.options.clock.now() - this.openedAt;
  }

  /** Records an answer from the endpoint; closes the breaker when open. */
  recordSuccess(): void {
    this.successCount++;
    this.consecutiveFailures = 0;
    this.probing = false;
    if (this.openedAt === undefined) return;
    const openForMs = this.openForMs();
    this.openedAt = undefined;
    this.failedProbes = 0;
    this.options.observer?.closed?.({ endpoint: this.options.endpoint, openForMs });
  }

  /**
   * Records a failed request; `probe` says whether it was the probe this breaker handed out, and
   * `retryAfterMs` how long the endpoint asked to be left alone.
   */
  recordFailure(cause: unknown, probe = false, retryAfterMs?: number): void {
    this.consecutiveFailures++;
    const suspect = misconfigurationOf(cause);
    this.misconfiguration = this.consecutiveFailures === 1 || this.misconfiguration ? suspect : undefined;
    const misconfiguration = this.misconfiguration && { misconfiguration: this.misconfiguration };
    const { clock, observer, endpoint, probePolicy, threshold } = this.options;
    if (this.openedAt !== undefined) {
      // Failures of requests sent before the breaker opened say nothing new.
      if (!probe) return;
      this.probing = false;
      this.failedProbes++;
      const nextProbeInMs = probePolicy.delay(this.failedProbes + 1, retryAfterMs);
      this.nextProbeAt = clock.now() + nextProbeInMs;
      observer?.probeFailed?.({ endpoint, cause, nextProbeInMs, openForMs: this.openForMs(), ...misconfiguration });
      return;
    }
    if (this.consecutiveFailures < threshold) return;
    this.openedAt = clock.now();
    this.failedProbes = 0;
    const nextProbeInMs = probePolicy.delay(1, retryAfterMs);
    this.nextProbeAt = this.openedAt + nextProbeInMs;
    observer?.opened?.({ endpoint, cause, nextProbeInMs, ...misconfiguration });
  }

  /** Milliseconds until a probe may go out: 0 when due, undefined when closed or a probe is out. */
  probeDueInMs(): number | undefined {
    if (this.openedAt === undefined || this.probing) return undefined;
    return Math.max(0, this.nextProbeAt - this.options.clock.now());
  }

  /** Claims the single probe slot; true when the caller may send one request now. */
  startProbe(): boolean {
    if (this.probeDueInMs() !== 0) return false;
    this.probing = true;
    return true;
  }

  /** Gives the probe slot back unused (the probe was withdrawn before it was sent). */
  cancelProbe(): void {
    this.probing = false;
  }
}
