/** The mapping engine's public surface: load a mapping file, then map decoded events with it. */
export { loadConfiguredMapping, loadMapping, readerSchemasOf, type LoadMappingOptions } from './load.js';
export type { CompiledMapping, LongValuesPolicy, MappingOutcome } from './types.js';
