/**
 * The msgpack body encoding (`serve --encoding msgpack`): vscode-jsonrpc keeps its Content-Length
 * framing and hands each body to these coders. Token records travel as a Uint32Array (msgpackr's
 * `moreTypes` typed-array extension), so they are never a list of numbers on the way.
 */
import { Packr } from 'msgpackr';
import type { ContentTypeDecoder, ContentTypeEncoder, Message } from 'vscode-jsonrpc';

/** Content type name, as vscode-jsonrpc registers coders by name. */
export const MSGPACK_CONTENT_TYPE = 'application/msgpack';

// useRecords:false keeps plain maps on the wire so any msgpack peer can read it.
const packr = new Packr({ moreTypes: true, useRecords: false });

/** Encodes one JSON-RPC message as a msgpack body, synchronously (for writers that frame it at once). */
export function packMessage(msg: Message): Uint8Array {
	return packr.pack(msg);
}

/** Decodes one msgpack body into a JSON-RPC message, synchronously (for readers that decode a frame at once). */
export function unpackMessage(body: Uint8Array): Message {
	return packr.unpack(body) as Message;
}

/** Encodes one JSON-RPC message as a msgpack body, for vscode-jsonrpc's own StreamMessageWriter. */
export const msgpackEncoder: ContentTypeEncoder = {
	name: MSGPACK_CONTENT_TYPE,
	encode(msg: Message): Promise<Uint8Array> {
		try {
			return Promise.resolve(packr.pack(msg));
		} catch (error) {
			return Promise.reject(error);
		}
	},
};

/** Decodes one msgpack body into a JSON-RPC message, for vscode-jsonrpc's own StreamMessageReader. */
export const msgpackDecoder: ContentTypeDecoder = {
	name: MSGPACK_CONTENT_TYPE,
	decode(buffer: Uint8Array): Promise<Message> {
		try {
			return Promise.resolve(unpackMessage(buffer));
		} catch (error) {
			return Promise.reject(error);
		}
	},
};
