/**
 * Content-Length framing over the protocol streams, for any body codec: a FrameReader and a
 * FrameWriter (protocol/node/, shared with the client). The reader drops garbage between frames and
 * reports it as a read error; the writer writes each frame with one system call.
 *
 * Knows no codec itself, so the host's start-up loads msgpackr only when it speaks msgpack
 * (protocol/body-codecs.ts).
 */
import type { Readable, Writable } from 'node:stream';
import type { MessageReader, MessageWriter } from 'vscode-jsonrpc';
import type { BodyCodec } from '../protocol/frame.js';
import { FrameReader } from '../protocol/node/frame-reader.js';
import { FrameWriter } from '../protocol/node/frame-writer.js';

export { FrameWriter } from '../protocol/node/frame-writer.js';
export type { BodyCodec } from '../protocol/frame.js';
export { JSON_CODEC, loadCodec } from '../protocol/body-codecs.js';

/** A reader and a writer speaking one encoding. */
export interface Transport {
	reader: MessageReader;
	writer: MessageWriter;
}

/** Creates the reader and writer for `codec` over the given byte streams. */
export function createFramedTransport(codec: BodyCodec, input: Readable, output: Writable): Transport {
	return { reader: new FrameReader(input, { decode: codec.decode }), writer: new FrameWriter(output, codec.encode) };
}
