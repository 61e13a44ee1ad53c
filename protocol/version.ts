/** Version numbers of the wire protocol and of the macro ABI: compare against these names, never bare numbers. */

/** The JSON-RPC protocol version this code speaks; `initialize` rejects any other. */
export const PROTOCOL_VERSION = 1;

/** The macro ABI version (`mh_abi_version()`) a library must report; kept equal to `MH_ABI_VERSION` in sdk/c/macro_host.h. */
export const ABI_VERSION = 1;

/** Name the host reports in `initialize`. */
export const SERVER_NAME = 'macro-host';
