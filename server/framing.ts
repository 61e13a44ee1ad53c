/**
 * Content-Length framing over the protocol streams, for any body codec: a FrameReader and a
 * FrameWriter (protocol/node/, shared with the client). The reader drops garbage between frames and
 * reports it as a read error; the writer writes each frame with one system call.
 *
 * Knows no codec itself, so the host's start-up loads msgpackr only when it speaks msgpack
 * (importing it costs about 15 ms of a cold start, most of it probing for an optional native addon).
 */
import type { Readable, Writable } from 'node:stream';
import type { MessageReader, MessageWriter } from 'vscode-jsonrpc';
import type { BodyCodec } from '../protocol/frame.js';
import type { Encoding } from '../protocol/handshake.js';
import { encodeJsonText } from '../protocol/json.js';
import { FrameReader } from '../protocol/node/frame-reader.js';
import { FrameWriter } from '../protocol/node/frame-writer.js';

export { FrameWriter } from '../protocol/node/frame-writer.js';
export type { BodyCodec } from '../protocol/frame.js';

/** A reader and a writer speaking one encoding. */
export interface Transport {
	reader: MessageReader;
	writer: MessageWriter;
}

/** JSON bodies as protocol/json.ts's encoder makes them (typed records as number arrays). */
export const JSON_CODEC: BodyCodec = { encode: encodeJsonText };

/** The codec of an encoding; msgpack's module (and msgpackr) is imported on first use only. */
export async function loadCodec(encoding: Encoding): Promise<BodyCodec> {
	if (encoding !== 'msgpack') return JSON_CODEC;
	const { packMessage, unpackMessage } = await import('../protocol/msgpack.js');
	return { encode: packMessage, decode: unpackMessage };
}

/** Creates the reader and writer for `codec` over the given byte streams. */
export function createFramedTransport(codec: BodyCodec, input: Readable, output: Writable): Transport {
	return { reader: new FrameReader(input, { decode: codec.decode }), writer: new FrameWriter(output, codec.encode) };
}
