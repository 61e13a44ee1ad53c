/**
 * From a line to a response: the only module that knows both the wire (protocol/proc-macro-server.ts) and the
 * handlers. A blank line is skipped; a line that is not a request, an unknown method or params of the wrong shape get
 * an error response for their id (or a log line when there is no id to answer); a handler that throws gets an error
 * response with its message. Nothing here ever ends the server.
 */
import {
	METHOD_NOT_FOUND,
	METHOD_NAMES,
	PARAMS_VALIDATORS,
	isMethodName,
	parseRequestLine,
	type DefinedMacrosParams,
	type ExpandAttributeParams,
	type ExpandDeriveParams,
	type ExpandInlineMacroParams,
	type MethodName,
	type RpcResponse,
} from '../../protocol/proc-macro-server.js';

/** One function per method, each given params already checked against the method's shape. */
export interface MethodHandlers {
	definedMacros(params: DefinedMacrosParams): Promise<unknown>;
	expandAttribute(params: ExpandAttributeParams): Promise<unknown>;
	expandDerive(params: ExpandDeriveParams): Promise<unknown>;
	expandInline(params: ExpandInlineMacroParams): Promise<unknown>;
}

/** Serves lines; see the module comment. */
export class Dispatcher {
	constructor(
		private readonly handlers: MethodHandlers,
		private readonly send: (response: RpcResponse) => void,
		private readonly log: (message: string) => void,
	) {}

	/** Serves one line; returns the work while a request is being served, undefined when the line was dealt with at once. */
	handleLine(line: string): Promise<void> | undefined {
		if (line.trim() === '') return undefined;
		const parsed = parseRequestLine(line);
		if (parsed.kind === 'invalid') {
			if (parsed.id === undefined) this.log(`ignored a line that is not a request: ${parsed.message}`);
			else this.#fail(parsed.id, `invalid request: ${parsed.message}`);
			return undefined;
		}
		const { id, method, value } = parsed.request;
		if (!isMethodName(method)) {
			this.#fail(id, `${METHOD_NOT_FOUND}: ${JSON.stringify(method)} (the methods are ${METHOD_NAMES.join(', ')})`);
			return undefined;
		}
		const problem = PARAMS_VALIDATORS[method](value);
		if (problem !== undefined) {
			this.#fail(id, `invalid params of ${method}: ${problem}`);
			return undefined;
		}
		return this.#serve(id, method, value);
	}

	async #serve(id: number, method: MethodName, params: unknown): Promise<void> {
		try {
			const result = await (this.handlers[method] as (params: unknown) => Promise<unknown>)(params);
			this.send({ id, result });
		} catch (error) {
			this.#fail(id, `${method} failed: ${(error as Error)?.message ?? String(error)}`);
		}
	}

	#fail(id: number, message: string): void {
		this.log(`request ${id}: ${message}`);
		this.send({ id, error: { message } });
	}
}
