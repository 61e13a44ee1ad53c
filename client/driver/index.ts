/**
 * The reference compiler driver (`macro-host/driver`): call sites, the expansion engine, splicing,
 * diagnostics and the project run.
 */
export * from './call-at.js';
export * from './call-sites.js';
export * from './diagnostics.js';
export * from './expand-project.js';
export * from './expansion-engine.js';
export * from './item-extent.js';
export * from './macro-registry.js';
export * from './builtin-names.js';
export { alignmentDistance, closestName } from '../name-suggestions.js';
export * from './render.js';
export * from './source-files.js';
export * from './splice.js';
export * from './token-builder.js';
export * from './token-cursor.js';
/** @deprecated Import HostPool from `macro-host/client`; this re-export goes in the next release. */
export { HostPool, HostLease, MAX_POOL_SIZE, type HostPoolOptions } from '../host-pool.js';
