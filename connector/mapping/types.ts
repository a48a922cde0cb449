/** What a loaded mapping offers the rest of the connector. */
import type { Type } from 'avsc';
import type { SourceProblem, UnmappableEventError } from '../errors.js';
import type { ProfileUpdate } from '../profile.js';

/** What to do with an attribute value longer than Target's 256 characters. */
export type LongValuesPolicy = 'truncate' | 'reject' | 'allow';

/** The result of one mapping for one event. */
export type MappingOutcome =
  | { kind: 'update'; update: ProfileUpdate }
  | { kind: 'filtered'; reason: string }
  | { kind: 'error'; error: UnmappableEventError };

/** A mapping file compiled into per-topic functions. */
export interface CompiledMapping {
  /** The mapping file, as given to loadMapping. */
  readonly file: string;
  /** Every topic some mapping reads, in file order. */
  readonly topics: string[];
  /** The reader schema named by the topic's mappings (`schema:`), if any. */
  readerSchema(topic: string): Type | undefined;
  /** One outcome per mapping of `topic`, in file order; empty for a topic nobody maps. */
  mapEvent(topic: string, value: unknown): MappingOutcome[];
  /** Every path of the topic's mappings that does not exist in `type` (reader or writer schema). */
  checkPaths(topic: string, type: Type): SourceProblem[];
}
