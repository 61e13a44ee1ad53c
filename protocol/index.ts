/** The wire contract shared by server and client: method constants, types, codecs and error codes. */
export * from './version.js';
export * from './token-stream.js';
export * from './bulk.js';
export * from './errors.js';
export * from './handshake.js';
export * from './call-mark.js';
export * from './library.js';
export * from './expand.js';
export * from './batch.js';
export * from './expand-source.js';
export * from './methods.js';
export * from './msgpack.js';
export * from './json.js';
export * from './frame.js';
export * from './body-codecs.js';
