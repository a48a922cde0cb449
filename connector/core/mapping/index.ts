/** The mapping engine's public surface: compile a mapping document, then map decoded events with it. */
export { compileMapping, parseMappingDocument, projectedSchemasOf, readerSchemasOf, type MappingDocument } from './compile-mapping.js';
export type { CompiledMapping, LongValuesPolicy, MappingOutcome } from './types.js';
