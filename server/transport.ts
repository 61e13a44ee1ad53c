/**
 * The transport for an encoding by name: createFramedTransport (framing.ts) with the JSON or msgpack
 * codec. It loads msgpackr with it; the host's entry uses framing.ts directly and loads the msgpack
 * codec only when asked to speak it.
 */
import type { Readable, Writable } from 'node:stream';
import type { Encoding } from '../protocol/handshake.js';
import { packMessage, unpackMessage } from '../protocol/msgpack.js';
import { createFramedTransport, JSON_CODEC, type BodyCodec, type Transport } from './framing.js';

export { FrameWriter, type Transport } from './framing.js';

/** The msgpack codec (records travel as a Uint32Array). */
export const MSGPACK_CODEC: BodyCodec = { encode: packMessage, decode: unpackMessage };

/** Creates the reader and writer for `encoding` over the given byte streams. */
export function createTransport(encoding: Encoding, input: Readable, output: Writable): Transport {
	return createFramedTransport(encoding === 'msgpack' ? MSGPACK_CODEC : JSON_CODEC, input, output);
}

