/**
 * The body codec of each encoding, shared by the host and the client. JSON's is always there;
 * msgpack's module (and msgpackr with it) is imported on first use only: requiring msgpackr costs
 * 13–15 ms of a cold start (most of it probing for an optional native addon), which a host or a
 * command that speaks JSON never needs to pay.
 */
import type { BodyCodec } from './frame.js';
import type { Encoding } from './handshake.js';
import { encodeJsonText } from './json.js';

/** JSON bodies as protocol/json.ts's encoder makes them (typed records as number arrays); decoded as JSON. */
export const JSON_CODEC: BodyCodec = { encode: encodeJsonText };

let msgpackCodec: BodyCodec | undefined;

/** The codec of an encoding, loading msgpack's on first use. */
export async function loadCodec(encoding: Encoding): Promise<BodyCodec> {
	if (encoding !== 'msgpack') return JSON_CODEC;
	if (msgpackCodec === undefined) {
		const { packMessage, unpackMessage } = await import('./msgpack.js');
		msgpackCodec = { encode: packMessage, decode: unpackMessage };
	}
	return msgpackCodec;
}

/** The codec of an encoding, once {@link loadCodec} has loaded it (always, for JSON); throws before. */
export function loadedCodec(encoding: Encoding): BodyCodec {
	if (encoding !== 'msgpack') return JSON_CODEC;
	if (msgpackCodec === undefined) throw new Error('the msgpack codec is used before loadCodec("msgpack") loaded it');
	return msgpackCodec;
}
