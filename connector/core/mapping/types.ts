/** What a loaded mapping offers the rest of the connector. */
import type { Type } from 'avsc';
import type { SourceProblem, UnmappableEventError } from '../errors.js';
import type { ProfileUpdate, UpdateRoute } from '../profile.js';
import type { PathUse } from './static-check.js';

/** What to do with an attribute value longer than Target's 256 characters. */
export type LongValuesPolicy = 'truncate' | 'reject' | 'allow';

/** The result of one mapping for one event. */
export type MappingOutcome =
  | {
      kind: 'update';
      update: ProfileUpdate;
      /** Attribute names (without `profile.`) whose value `long_values: truncate` cut to 256 characters. */
      truncated?: string[];
    }
  | { kind: 'filtered'; reason: string }
  | { kind: 'error'; error: UnmappableEventError };

/** A mapping file compiled into per-topic functions. */
export interface CompiledMapping {
  /** The mapping file, as given to loadMapping. */
  readonly file: string;
  /** Every topic some mapping reads, in file order. */
  readonly topics: string[];
  /** The routes the entries send through, each once (`single` for entries that name none). */
  readonly routes: readonly UpdateRoute[];
  /** The reader schema named by the topic's mappings (`schema:`), if any. */
  readerSchema(topic: string): Type | undefined;
  /** One outcome per mapping of `topic`, in file order; empty for a topic nobody maps. */
  mapEvent(topic: string, value: unknown): MappingOutcome[];
  /**
   * Every way the topic's mappings do not fit `type` (reader or writer schema): paths it does not
   * have, transforms that cannot take their input, condition values that can never match.
   */
  checkPaths(topic: string, type: Type): SourceProblem[];
  /** Every path the topic's mappings read, with its transforms, compared values and position. */
  pathUses(topic: string): readonly PathUse[];
}
