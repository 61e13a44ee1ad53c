/**
 * The wire types of Scarb's proc-macro server, as the crate `scarb-proc-macro-server-types` 0.5.0 has them, with
 * pure validators that say what is wrong with a value (by its JSON path). This is the protocol the Cairo language
 * server speaks to `scarb proc-macro-server`; `macro-host proc-macro-server` answers it (client/proc-macro-server/).
 *
 * Framing: one JSON object per line (NDJSON), UTF-8, no headers. It is not JSON-RPC 2.0: no `"jsonrpc"` field, the
 * params field is called `value`, and errors carry only a message.
 *
 *   → {"id":1,"method":"expandInline","value":{"context":{…},"name":"some","args":{"tokens":[…],"metadata":{…}},"call_site":{"start":0,"end":9}}}
 *   ← {"id":1,"result":{"token_stream":{"value":"42","metadata":{…}},"diagnostics":[],"code_mappings":[…],"fingerprint":7}}
 *   ← {"id":2,"error":{"message":"method not found"}}
 *
 * Responses may come back in any order; the client matches them by `id`. There is no handshake, no notification and
 * no cancellation; the end of stdin is the shutdown. Field names are snake_case, enums are serde's externally tagged
 * form (`{"Ident":{…}}`, `{"Span":{…}}`), and a missing `Option` field reads as null, as serde reads it.
 *
 * Pure: no I/O and no Node types (this folder compiles with `"types": []`).
 */

// ---- Envelope ----

/** The id of a request (a u64 in Rust; here an integer JavaScript represents exactly, up to 2^53 - 1). */
export type RequestId = number;

/** A request: `{id, method, value}`. */
export interface RpcRequest {
	/** Matches the response to the request. */
	id: RequestId;
	/** One of {@link METHOD_NAMES}. */
	method: string;
	/** The method's params (any JSON value until checked against the method). */
	value: unknown;
}

/** A response: exactly one of `result` and `error` is present. */
export interface RpcResponse {
	/** The id of the request this answers. */
	id: RequestId;
	/** The method's result, on success. */
	result?: unknown;
	/** What went wrong, when the request could not be served. */
	error?: ResponseError;
}

/** An error response's payload: only a human-readable message (the protocol has no error codes). */
export interface ResponseError {
	message: string;
}

// ---- Spans and token streams ----

/** A byte offset (u32). */
export type TextOffset = number;

/** A byte range `start..end` (end exclusive), u32 each. */
export interface TextSpan {
	start: TextOffset;
	end: TextOffset;
}

/** Metadata of a v2 token stream (cairo-lang-macro 0.2): where it came from. */
export interface TokenStreamMetadataV2 {
	/** Path of the file the stream was made from. */
	original_file_path: string | null;
	/** An id of that file, unique per file. */
	file_id: string | null;
	/** The Cairo edition of the stream. */
	edition: string | null;
}

/** One token of a v2 stream: an arbitrary string (a lexer token, or whitespace, or several tokens) and its span. */
export interface TokenV2 {
	content: string;
	span: TextSpan;
}

/** A v2 token tree; `Ident` is its only variant. */
export interface TokenTreeV2 {
	Ident: TokenV2;
}

/** A v2 token stream (what expand requests carry): the stream's text is its tokens' contents, back to back. */
export interface TokenStreamV2 {
	tokens: TokenTreeV2[];
	metadata: TokenStreamMetadataV2;
}

/** Metadata of a v1 token stream (cairo-lang-macro 0.1). */
export interface TokenStreamMetadataV1 {
	original_file_path: string | null;
	file_id: string | null;
}

/** A v1 token stream (what results carry): the code as one string. */
export interface TokenStreamV1 {
	value: string;
	metadata: TokenStreamMetadataV1;
}

/** A diagnostic's severity, by serde variant name. */
export type Severity = 'Error' | 'Warning';
export namespace Severity {
	export const error: Severity = 'Error';
	export const warning: Severity = 'Warning';
}

/** A diagnostic of a macro (cairo-lang-macro 0.2's `Diagnostic`). */
export interface Diagnostic {
	message: string;
	severity: Severity;
	/** Where it points; null means the call site. */
	span: TextSpan | null;
}

/** Where a piece of generated code comes from (externally tagged: exactly one key). */
export type CodeOrigin =
	/** Copied from the source, starting at this offset. */
	| { Start: TextOffset }
	/** Generated from this span, without a direct mapping. */
	| { Span: TextSpan }
	/** Generated because of this span (the call site), with nothing copied. */
	| { CallSite: TextSpan };

/** Maps a span of the generated code to its origin in the source. */
export interface CodeMapping {
	/** Byte range in the generated code. */
	span: TextSpan;
	origin: CodeOrigin;
}

/** The result of every expand method. */
export interface ProcMacroResult {
	/** The generated code, in the v1 string form. */
	token_stream: TokenStreamV1;
	diagnostics: Diagnostic[];
	/** Mappings from the generated code back to the source; null for v1 attribute and inline macros. */
	code_mappings: CodeMapping[] | null;
	/** A u64 that changes when the macro's code changes: the language server keys its cache with it. */
	fingerprint: number;
}

// ---- Scope ----

/** A Scarb workspace, by its manifest. */
export interface Workspace {
	/** Path of the workspace's Scarb.toml. */
	manifest_path: string;
}

/**
 * One package of a compilation unit. `discriminator` is the serialized package id,
 * `"<name> <version> (<source url>)"`, e.g. `"hello 1.0.0 (path+file:///home/me/hello/Scarb.toml)"`; null only
 * for the core library.
 */
export interface CompilationUnitComponent {
	name: string;
	discriminator: string | null;
}

/** Where a macro is called: the `context` of every expand request. */
export interface ProcMacroScope {
	workspace: Workspace;
	component: CompilationUnitComponent;
}

// ---- definedMacros ----

/** Params of {@link DefinedMacrosMethod}. */
export interface DefinedMacrosParams {
	/** The workspace to resolve (and build, and load). */
	workspace: Workspace;
}

/** A macro name with the hash of the package that provides it. */
export interface MacroWithHash {
	name: string;
	/** A u64 hash of the macro's package (changes when its library changes). */
	hash: number;
}

/** Extra information for debugging on the language server's side. */
export interface DebugInfo {
	/** Serialized package ids of the macro packages. */
	source_packages: string[];
}

/** The macros one compilation-unit component can use. */
export interface CompilationUnitComponentMacros {
	component: CompilationUnitComponent;
	attributes: MacroWithHash[];
	inline_macros: MacroWithHash[];
	/** Derive names in snake_case (`to_value` for `#[derive(ToValue)]`). */
	derives: MacroWithHash[];
	executables: string[];
	debug_info: DebugInfo;
}

/** Result of {@link DefinedMacrosMethod}: one entry per component (a list, since JSON maps need string keys). */
export interface DefinedMacrosResponse {
	macros_for_cu_components: CompilationUnitComponentMacros[];
}

// ---- Expand methods ----

/** Params of {@link ExpandAttributeMethod}: `#[attr(args)] item`. */
export interface ExpandAttributeParams {
	context: ProcMacroScope;
	attr: string;
	args: TokenStreamV2;
	item: TokenStreamV2;
	/** The call site as if the attribute were the item's last token (spans of `item` start at 0). */
	adapted_call_site: TextSpan;
}

/** Params of {@link ExpandDeriveMethod}: `#[derive(A, B)] item`. */
export interface ExpandDeriveParams {
	context: ProcMacroScope;
	/** Derive names in snake_case, as definedMacros reported them. */
	derives: string[];
	item: TokenStreamV2;
	call_site: TextSpan;
}

/** Params of {@link ExpandInlineMethod}: `name!(args)`. */
export interface ExpandInlineMacroParams {
	context: ProcMacroScope;
	name: string;
	args: TokenStreamV2;
	call_site: TextSpan;
}

// ---- Methods ----

/** Resolves a workspace, loads its macros and lists them per component. */
export namespace DefinedMacrosMethod {
	export const method = 'definedMacros' as const;
	export const validateParams = (value: unknown): string | undefined => checkDefinedMacrosParams(value, 'value');
}

/** Expands an attribute macro. Result: ProcMacroResult. */
export namespace ExpandAttributeMethod {
	export const method = 'expandAttribute' as const;
	export const validateParams = (value: unknown): string | undefined => checkExpandAttributeParams(value, 'value');
}

/** Expands derives, one by one, and concatenates their code. Result: ProcMacroResult. */
export namespace ExpandDeriveMethod {
	export const method = 'expandDerive' as const;
	export const validateParams = (value: unknown): string | undefined => checkExpandDeriveParams(value, 'value');
}

/** Expands an inline macro. Result: ProcMacroResult. */
export namespace ExpandInlineMethod {
	export const method = 'expandInline' as const;
	export const validateParams = (value: unknown): string | undefined => checkExpandInlineParams(value, 'value');
}

/** Every method name, in the order the protocol lists them. */
export const METHOD_NAMES = [DefinedMacrosMethod.method, ExpandAttributeMethod.method, ExpandDeriveMethod.method, ExpandInlineMethod.method] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

/** Whether `name` is a method of the protocol. */
export function isMethodName(name: string): name is MethodName {
	return (METHOD_NAMES as readonly string[]).includes(name);
}

/** The params validator of each method. */
export const PARAMS_VALIDATORS: Readonly<Record<MethodName, (value: unknown) => string | undefined>> = {
	definedMacros: DefinedMacrosMethod.validateParams,
	expandAttribute: ExpandAttributeMethod.validateParams,
	expandDerive: ExpandDeriveMethod.validateParams,
	expandInline: ExpandInlineMethod.validateParams,
};

/** The message Scarb's server answers an unknown method with. */
export const METHOD_NOT_FOUND = 'method not found';

// ---- Validators ----

/** What {@link parseRequestLine} makes of one line. */
export type ParsedLine =
	/** A request with a well-formed envelope (its method and params are not checked yet). */
	| { kind: 'request'; request: RpcRequest }
	/** Not a request; `id` is set when the line had a usable one, so the error can be answered. */
	| { kind: 'invalid'; id: RequestId | undefined; message: string };

/**
 * Reads one line (without its newline) as a request envelope. Never throws: a line that is not JSON, not an
 * object, or has a bad `id`, `method` or `value` comes back as `invalid`, with the id when there is one to answer.
 */
export function parseRequestLine(line: string): ParsedLine {
	let value: unknown;
	try {
		value = JSON.parse(line);
	} catch (error) {
		return { kind: 'invalid', id: undefined, message: `the line is not JSON (${(error as Error).message}): ${preview(line)}` };
	}
	if (!isObject(value)) return { kind: 'invalid', id: undefined, message: `a request must be a JSON object, got ${describe(value)}: ${preview(line)}` };
	const idProblem = checkRequestId(value.id, 'id');
	if (idProblem !== undefined) return { kind: 'invalid', id: undefined, message: `${idProblem}: ${preview(line)}` };
	const id = value.id as RequestId;
	if (typeof value.method !== 'string') return { kind: 'invalid', id, message: `method: expected a string, got ${describe(value.method)}` };
	if (!('value' in value)) return { kind: 'invalid', id, message: 'value: missing (the params of a request are its "value" field)' };
	return { kind: 'request', request: { id, method: value.method, value: value.value } };
}

/** Checks a request id: a whole number from 0 that JavaScript holds exactly. */
export function checkRequestId(value: unknown, path: string): string | undefined {
	if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) return `${path}: expected a request id (a whole number from 0), got ${describe(value)}`;
	if (!Number.isSafeInteger(value)) return `${path}: ${value} is larger than 2^53 - 1, the largest request id this server answers exactly`;
	return undefined;
}

/** Checks {@link DefinedMacrosParams}. */
export function checkDefinedMacrosParams(value: unknown, path: string): string | undefined {
	return checkObject(value, path) ?? checkWorkspace((value as Record<string, unknown>).workspace, `${path}.workspace`);
}

/** Checks {@link ExpandAttributeParams}. */
export function checkExpandAttributeParams(value: unknown, path: string): string | undefined {
	if (!isObject(value)) return checkObject(value, path);
	return (
		checkScope(value.context, `${path}.context`) ??
		checkString(value.attr, `${path}.attr`) ??
		checkTokenStreamV2(value.args, `${path}.args`) ??
		checkTokenStreamV2(value.item, `${path}.item`) ??
		checkTextSpan(value.adapted_call_site, `${path}.adapted_call_site`)
	);
}

/** Checks {@link ExpandDeriveParams}. */
export function checkExpandDeriveParams(value: unknown, path: string): string | undefined {
	if (!isObject(value)) return checkObject(value, path);
	return (
		checkScope(value.context, `${path}.context`) ??
		checkStringArray(value.derives, `${path}.derives`) ??
		checkTokenStreamV2(value.item, `${path}.item`) ??
		checkTextSpan(value.call_site, `${path}.call_site`)
	);
}

/** Checks {@link ExpandInlineMacroParams}. */
export function checkExpandInlineParams(value: unknown, path: string): string | undefined {
	if (!isObject(value)) return checkObject(value, path);
	return (
		checkScope(value.context, `${path}.context`) ??
		checkString(value.name, `${path}.name`) ??
		checkTokenStreamV2(value.args, `${path}.args`) ??
		checkTextSpan(value.call_site, `${path}.call_site`)
	);
}

/** Checks a {@link Workspace}. */
export function checkWorkspace(value: unknown, path: string): string | undefined {
	if (!isObject(value)) return checkObject(value, path);
	const problem = checkString(value.manifest_path, `${path}.manifest_path`);
	if (problem !== undefined) return problem;
	return (value.manifest_path as string).length === 0 ? `${path}.manifest_path: expected the path of a Scarb.toml, got an empty string` : undefined;
}

/** Checks a {@link ProcMacroScope}. */
export function checkScope(value: unknown, path: string): string | undefined {
	if (!isObject(value)) return checkObject(value, path);
	return checkWorkspace(value.workspace, `${path}.workspace`) ?? checkComponent(value.component, `${path}.component`);
}

/** Checks a {@link CompilationUnitComponent} (a missing discriminator reads as null, as serde reads it). */
export function checkComponent(value: unknown, path: string): string | undefined {
	if (!isObject(value)) return checkObject(value, path);
	return checkString(value.name, `${path}.name`) ?? checkOptional(value.discriminator, `${path}.discriminator`, checkString);
}

/** Checks a {@link TextSpan}: two u32s. */
export function checkTextSpan(value: unknown, path: string): string | undefined {
	if (!isObject(value)) return checkObject(value, path);
	return checkU32(value.start, `${path}.start`) ?? checkU32(value.end, `${path}.end`);
}

/**
 * Checks a {@link TokenStreamV2}: `tokens` an array of `{"Ident":{"content","span"}}`, `metadata` an object whose
 * fields are strings or null (or missing). One loop over the tokens, with no allocation per token.
 */
export function checkTokenStreamV2(value: unknown, path: string): string | undefined {
	if (!isObject(value)) return checkObject(value, path);
	const tokens = value.tokens;
	if (!Array.isArray(tokens)) return `${path}.tokens: expected an array of tokens, got ${describe(tokens)}`;
	for (let i = 0; i < tokens.length; i++) {
		const tree = tokens[i];
		if (!isObject(tree) || !isObject(tree.Ident)) {
			return `${path}.tokens[${i}]: expected a token tree {"Ident":{"content":…,"span":…}}, got ${describe(tree)}`;
		}
		const token = tree.Ident;
		if (typeof token.content !== 'string') return `${path}.tokens[${i}].Ident.content: expected a string, got ${describe(token.content)}`;
		const spanProblem = checkTextSpan(token.span, `${path}.tokens[${i}].Ident.span`);
		if (spanProblem !== undefined) return spanProblem;
	}
	const metadata = value.metadata;
	if (!isObject(metadata)) return `${path}.metadata: expected an object, got ${describe(metadata)}`;
	return (
		checkOptional(metadata.original_file_path, `${path}.metadata.original_file_path`, checkString) ??
		checkOptional(metadata.file_id, `${path}.metadata.file_id`, checkString) ??
		checkOptional(metadata.edition, `${path}.metadata.edition`, checkString)
	);
}

/** Checks a {@link ProcMacroResult} (what a client reads back). */
export function checkProcMacroResult(value: unknown, path: string): string | undefined {
	if (!isObject(value)) return checkObject(value, path);
	const stream = value.token_stream;
	if (!isObject(stream)) return `${path}.token_stream: expected an object, got ${describe(stream)}`;
	const streamProblem = checkString(stream.value, `${path}.token_stream.value`);
	if (streamProblem !== undefined) return streamProblem;
	if (!Array.isArray(value.diagnostics)) return `${path}.diagnostics: expected an array, got ${describe(value.diagnostics)}`;
	for (let i = 0; i < value.diagnostics.length; i++) {
		const problem = checkDiagnostic(value.diagnostics[i], `${path}.diagnostics[${i}]`);
		if (problem !== undefined) return problem;
	}
	const mappings = value.code_mappings;
	if (mappings !== null && mappings !== undefined) {
		if (!Array.isArray(mappings)) return `${path}.code_mappings: expected an array or null, got ${describe(mappings)}`;
		for (let i = 0; i < mappings.length; i++) {
			const problem = checkCodeMapping(mappings[i], `${path}.code_mappings[${i}]`);
			if (problem !== undefined) return problem;
		}
	}
	return checkU64(value.fingerprint, `${path}.fingerprint`);
}

/** Checks a {@link Diagnostic}. */
export function checkDiagnostic(value: unknown, path: string): string | undefined {
	if (!isObject(value)) return checkObject(value, path);
	if (value.severity !== Severity.error && value.severity !== Severity.warning) return `${path}.severity: expected "Error" or "Warning", got ${describe(value.severity)}`;
	return checkString(value.message, `${path}.message`) ?? checkOptional(value.span, `${path}.span`, checkTextSpan);
}

/** Checks a {@link CodeMapping}. */
export function checkCodeMapping(value: unknown, path: string): string | undefined {
	if (!isObject(value)) return checkObject(value, path);
	const spanProblem = checkTextSpan(value.span, `${path}.span`);
	if (spanProblem !== undefined) return spanProblem;
	const origin = value.origin;
	if (!isObject(origin) || Object.keys(origin).length !== 1) return `${path}.origin: expected one of {"Start":…}, {"Span":…}, {"CallSite":…}, got ${describe(origin)}`;
	if ('Start' in origin) return checkU32(origin.Start, `${path}.origin.Start`);
	if ('Span' in origin) return checkTextSpan(origin.Span, `${path}.origin.Span`);
	if ('CallSite' in origin) return checkTextSpan(origin.CallSite, `${path}.origin.CallSite`);
	return `${path}.origin: unknown variant ${JSON.stringify(Object.keys(origin)[0])}, expected Start, Span or CallSite`;
}

function checkObject(value: unknown, path: string): string | undefined {
	return isObject(value) ? undefined : `${path}: expected an object, got ${describe(value)}`;
}

function checkString(value: unknown, path: string): string | undefined {
	return typeof value === 'string' ? undefined : `${path}: expected a string, got ${describe(value)}`;
}

function checkStringArray(value: unknown, path: string): string | undefined {
	if (!Array.isArray(value)) return `${path}: expected an array of strings, got ${describe(value)}`;
	for (let i = 0; i < value.length; i++) {
		const problem = checkString(value[i], `${path}[${i}]`);
		if (problem !== undefined) return problem;
	}
	return undefined;
}

function checkU32(value: unknown, path: string): string | undefined {
	// Exactly the u32s survive `>>> 0` unchanged.
	return typeof value === 'number' && value >>> 0 === value ? undefined : `${path}: expected a u32 (a whole number from 0 to 4294967295), got ${describe(value)}`;
}

function checkU64(value: unknown, path: string): string | undefined {
	return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? undefined : `${path}: expected a u64, got ${describe(value)}`;
}

/** A serde `Option`: null or missing is None. */
function checkOptional(value: unknown, path: string, check: (value: unknown, path: string) => string | undefined): string | undefined {
	return value === null || value === undefined ? undefined : check(value, path);
}

function isObject(value: unknown): value is Record<string, unknown> {
	return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A short description of a value for messages: its type, and the value itself when it is short. */
function describe(value: unknown): string {
	if (value === undefined) return 'nothing (the field is missing)';
	if (value === null) return 'null';
	if (Array.isArray(value)) return `an array of ${value.length}`;
	if (typeof value === 'object') return 'an object';
	const text = JSON.stringify(value);
	return `${typeof value} ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}

/** The start of a line, for a log message. */
function preview(line: string): string {
	return line.length > 120 ? `${JSON.stringify(line.slice(0, 120))}…` : JSON.stringify(line);
}
