/**
 * The expansion engine, shared by the client's driver and the host: call sites, expansion of one
 * source, splicing, the driver's diagnostics, and the flat token helpers they use. Pure logic, no I/O.
 */
export * from './builtin-names.js';
export * from './call-sites.js';
export * from './diagnostics.js';
export * from './expansion-engine.js';
export * from './item-extent.js';
export * from './macro-registry.js';
export { alignmentDistance, closestName } from './name-suggestions.js';
export * from './splice.js';
export * from './token-builder.js';
export * from './token-cursor.js';
