/**
 * Content-Length frames as bytes: the header's shape and the encoding of one message into one frame
 * buffer, shared by the host's and the client's writers (protocol/node/frame-writer.ts does the I/O).
 * A frame is `Content-Length: <body bytes>\r\n\r\n<body>`, as vscode-jsonrpc reads it.
 */
import type { Message } from 'vscode-jsonrpc';

/** How bodies of one encoding are made and read. */
export interface BodyCodec {
	/**
	 * Encodes one message synchronously (so frames leave in the order they were written, with no lock).
	 * A string is a body to be written as UTF-8.
	 */
	encode(message: Message): Uint8Array | string;
	/** Decodes one body synchronously; undefined means JSON (UTF-8). Throws on a body that is not a message. */
	decode?(body: Uint8Array): Message;
}

/** Bodies up to this size are copied behind their header into one buffer; larger ones go out as two pieces. */
export const SINGLE_BUFFER_LIMIT = 64 * 1024;

/** The header block of a frame whose body has `bodyLength` bytes (ASCII). */
export function frameHeader(bodyLength: number): string {
	return `Content-Length: ${bodyLength}\r\n\r\n`;
}

/** One frame in one buffer: the header, then a copy of `body`. */
export function encodeFrame(body: Uint8Array): Uint8Array {
	const header = frameHeader(body.byteLength);
	const frame = new Uint8Array(header.length + body.byteLength);
	for (let i = 0; i < header.length; i++) frame[i] = header.charCodeAt(i);
	frame.set(body, header.length);
	return frame;
}
