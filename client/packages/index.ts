/** Macro packages: manifests, version requirements, resolution, cargo and wasm builds, the build cache and loadProject. */
export * from './errors.js';
export * from './semver.js';
export * from './toml-locations.js';
export * from './manifest.js';
export * from './resolve.js';
export * from './cargo-manifest.js';
export * from './toolchain.js';
export * from './cache-key.js';
export * from './cache-inventory.js';
export * from './cache-gc.js';
export * from './prebuilt.js';
export * from './cargo-build.js';
export * from './wasm-build.js';
export * from './options.js';
export * from './build-project.js';
export * from './load-project.js';
