/**
 * Reports values that `long_values: truncate` cut: one warning the first time an attribute is
 * cut, a count per attribute for the metric and the end-of-run summary, and never a line per event.
 */
import { MAX_ATTRIBUTE_VALUE_LENGTH } from '../core/target-api/limits.js';
import type { Logger } from './logger.js';

/** The name counted for every attribute beyond `maxNames` distinct ones. */
export const OTHER_ATTRIBUTES = 'other';

/** Counts truncated values per attribute (named as Target knows it: `profile.<name>`). */
export class TruncationReport {
  private readonly counts = new Map<string, number>();

  /**
   * `onCount` hears of every truncated value (the metric); at most `maxNames` distinct names are
   * kept, the rest are counted as OTHER_ATTRIBUTES, because expanded map keys are data and a
   * metric label per key would grow without bound.
   */
  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly onCount: (attribute: string) => void,
    private readonly maxNames = 1000,
  ) {}

  /** Records the attributes one update truncated (MappingOutcome `truncated`, names without `profile.`). */
  record(names: readonly string[]): void {
    for (const name of names) {
      const attribute = this.nameFor(`profile.${name}`);
      const count = this.counts.get(attribute) ?? 0;
      if (count === 0) this.warnFirst(attribute);
      this.counts.set(attribute, count + 1);
      this.onCount(attribute);
    }
  }

  /** Truncated values per attribute so far, for the end-of-run log. */
  summary(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  private nameFor(attribute: string): string {
    if (this.counts.has(attribute) || this.counts.size < this.maxNames) return attribute;
    return OTHER_ATTRIBUTES;
  }

  private warnFirst(attribute: string): void {
    const cut = `truncated to ${MAX_ATTRIBUTE_VALUE_LENGTH} characters (long_values: truncate)`;
    const message =
      attribute === OTHER_ATTRIBUTES
        ? `values of attributes beyond the first ${this.maxNames} are ${cut}; they are counted as attribute "${OTHER_ATTRIBUTES}" in tps_values_truncated_total`
        : `values of ${attribute} are ${cut}; further truncations are counted in tps_values_truncated_total`;
    this.logger.warn({ attribute, maxLength: MAX_ATTRIBUTE_VALUE_LENGTH }, message);
  }
}
