/**
 * The reference compiler driver (`macro-host/driver`): call sites, the expansion engine, splicing,
 * diagnostics and the project run. The engine itself lives in expansion/, shared with the host.
 */
export * from '../../expansion/index.js';
export * from './call-at.js';
export * from './expand-project.js';
export * from './package-diagnostics.js';
export * from './render.js';
export * from './source-files.js';
/** @deprecated Import HostPool from `macro-host/client`; this re-export goes in the next release. */
export { HostPool, HostLease, MAX_POOL_SIZE, type HostPoolOptions } from '../host-pool.js';
