/**
 * The options of MacroHost.start: documented here, and turned into one frozen object with every
 * default applied by {@link normalizeOptions}. Each check lives with its feature (restart policy,
 * quarantine); the messages name the option, the expectation and the value received.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_BULK_MIN_BYTES } from '../protocol/bulk.js';
import { Encoding } from '../protocol/handshake.js';
import { defaultBulkRoot, type BulkSettings } from './bulk-channel.js';
import { ExpansionCache, type ExpansionCacheOptions } from './expansion-cache/expansion-cache.js';
import { defaultCacheDir } from './packages/options.js';
import { invalidOption, rejectUnknownKeys, validateInteger, validateNonEmptyString, validateObject } from './option-validation.js';
import { DEFAULT_MEMORY_LIMIT_MIB, MIN_MEMORY_LIMIT_MIB } from './memory-watchdog.js';
import { DEFAULT_QUARANTINE_AFTER, validateQuarantineAfter } from './quarantine.js';
import { normalizeRestartPolicy, type RestartPolicy, type RestartPolicyOptions } from './restart-policy.js';

/** Options of {@link MacroHost.start}. Every field is optional. */
export interface MacroHostOptions {
	/**
	 * Body encoding of the JSON-RPC messages (`serve --encoding`). "msgpack" sends token records as a
	 * typed array; "json" is readable in a log.
	 * @default 'json'
	 */
	readonly encoding?: Encoding;
	/**
	 * Milliseconds a request may run on the host. The host runs requests one at a time, so the clock
	 * of a request starts when the requests before it are answered: a long queue of quick calls never
	 * times out. On expiry the host is killed with SIGKILL and restarted; the expand call answers bail
	 * with a `timeout` diagnostic ("timed out after N ms") and `HostCrashError.timedOut` is true.
	 * @default 30_000
	 */
	readonly requestTimeoutMs?: number;
	/**
	 * Milliseconds a starting host gets to answer `initialize` and reload the libraries.
	 * @default 10_000
	 */
	readonly startTimeoutMs?: number;
	/**
	 * A macro that crashed (or timed out) the host this many times is quarantined: later calls to it
	 * answer bail with a `quarantined` diagnostic at once, and the host is not touched.
	 * @default 3
	 */
	readonly quarantineAfter?: number;
	/** When and how fast a crashed host is restarted; see {@link RestartPolicyOptions}. */
	readonly restart?: RestartPolicyOptions;
	/**
	 * Keep a warm standby host: a second host process, spawned in the background after each start
	 * and each crash, initialized and given every library the active host loads. A crash then swaps
	 * the standby in (the calls queued behind the crash are re-sent at once) instead of waiting for
	 * a new host to start, and a new standby is spawned behind it. It costs one idle host process
	 * (about 55 MB resident with a small library loaded, plus what the libraries allocate) and one
	 * host start of CPU after each start or crash. `close()` kills it with the active host. HostPool
	 * turns it off for its hosts unless given explicitly (see HostPoolOptions.host), and so do the
	 * one-shot CLI commands.
	 * @default true
	 */
	readonly warmStandby?: boolean;
	/**
	 * The host's memory limit, in MiB. While a request runs, the client checks the host's resident
	 * memory every few milliseconds and kills it at the limit; the host also caps its data segment
	 * (RLIMIT_DATA) a little above it, so one huge allocation fails at once. Either way the call
	 * answers bail with a `memory-limit` diagnostic ("exceeded the memory limit of N MiB") and the
	 * host is restarted; `HostCrashError.memoryLimitExceeded` is true.
	 * @default 2048
	 */
	readonly memoryLimitMiB?: number;
	/**
	 * How many of the host's last stderr bytes to keep for crash reports (`HostCrashError.stderrTail`
	 * and the crash diagnostic). 0 keeps none.
	 * @default 4096
	 */
	readonly stderrTailBytes?: number;
	/**
	 * Milliseconds close() waits for the host to answer `shutdown` and exit before it kills it.
	 * @default 5_000
	 */
	readonly shutdownTimeoutMs?: number;
	/**
	 * Milliseconds between SIGTERM and SIGKILL when the client kills a host that would not exit.
	 * @default 2_000
	 */
	readonly forceKillAfterMs?: number;
	/**
	 * The Node.js executable that runs the host.
	 * @default process.execPath
	 */
	readonly nodePath?: string;
	/**
	 * The host's entry script.
	 * @default {@link DEFAULT_HOST_SCRIPT}: dist/server/host.cjs of this package (the bundled host's loader), or
	 * dist/server/main.js when there is no bundle or it is older than main.js
	 */
	readonly hostScript?: string;
	/**
	 * Extra arguments after `<hostScript> --encoding <encoding>`.
	 * @default []
	 */
	readonly hostArgs?: readonly string[];
	/**
	 * Working directory of the host; relative library paths resolve against it.
	 * @default process.cwd()
	 */
	readonly cwd?: string;
	/**
	 * Environment variables of the host, added to (and overriding) the client's own.
	 * @default {}
	 */
	readonly env?: Readonly<Record<string, string | undefined>>;
	/**
	 * Called with each piece of text the host writes to stderr, which includes whatever a macro prints
	 * (the host points a macro's stdout at stderr). Exceptions it throws are ignored.
	 * @default undefined (stderr is only kept as a tail for crash reports)
	 */
	readonly onStderr?: (text: string) => void;
	/**
	 * The client's name, sent in `initialize` for the host's log.
	 * @default 'macro-host-client'
	 */
	readonly clientName?: string;
	/**
	 * Bulk streams: token streams of at least `minBytes` bytes (24 per token plus the text) travel
	 * through a shared file in `dir` instead of inside the message, both ways (the host maps the file
	 * and hands the records to the library where they lie; see docs/protocol.md). Each host gets a
	 * private directory under `dir`, removed when the host goes. `false` sends every stream inline.
	 * When the directory cannot be made, or the host cannot map files, streams go inline.
	 * @default { minBytes: 32768, dir: '/dev/shm' when writable, else the system's temporary directory }
	 */
	readonly bulk?: false | { readonly minBytes?: number; readonly dir?: string };
	/**
	 * The expansion cache (docs/caching.md): a call whose library, macro and input were expanded before
	 * is answered from `dir` (or a remote cache) without touching the host. Failed calls are never
	 * cached. Its warnings (a remote cache unavailable) are process warnings (`process.emitWarning`).
	 * HostPool passes it to each of its hosts.
	 * @default false (expand-project turns it on)
	 */
	readonly expansionCache?: false | ExpansionCacheOptions;
	/**
	 * Batches: small expand calls made in the same tick (a driver expanding a file, a pool with a
	 * backlog) go to the host in one `expandBatch` request and come back in one response, each call
	 * answered as it would be alone. A host that dies during a batch costs no call its answer: the
	 * batch's calls are re-run one by one on the restarted host, so the culprit is answered as a lone
	 * call would be (after a second crash). `false` sends every call on its own.
	 * @default true (when the host serves expandBatch)
	 */
	readonly batch?: boolean;
}

/** MacroHostOptions with every default applied. */
export interface NormalizedOptions {
	readonly encoding: Encoding;
	readonly requestTimeoutMs: number;
	readonly startTimeoutMs: number;
	readonly quarantineAfter: number;
	readonly restart: RestartPolicy;
	readonly memoryLimitMiB: number;
	readonly stderrTailBytes: number;
	readonly shutdownTimeoutMs: number;
	readonly forceKillAfterMs: number;
	readonly nodePath: string;
	readonly hostScript: string;
	readonly hostArgs: readonly string[];
	readonly cwd: string;
	readonly env: Readonly<Record<string, string | undefined>>;
	readonly onStderr: ((text: string) => void) | undefined;
	readonly clientName: string;
	readonly warmStandby: boolean;
	/** Where bulk streams go; undefined when they are off. */
	readonly bulk: BulkSettings | undefined;
	/** The expansion cache; undefined when it is off. */
	readonly expansionCache: ExpansionCache | undefined;
	readonly batch: boolean;
}

/**
 * The host entry that ships with this package, resolved from this file (dist/client/ → dist/server/):
 * host.cjs, the loader that runs the bundle `npm run build` makes of dist/server/main.js from a V8
 * code cache (scripts/bundle-host.js, server/host-loader.cts), which starts in less time, or main.js
 * itself when there is no bundle or it is older than main.js (tsc ran after the bundle was made, so
 * the bundle may not be what main.js now does). Both run the same host.
 */
export const DEFAULT_HOST_SCRIPT = chooseHostScript(
	fileURLToPath(new URL('../server/host.cjs', import.meta.url)),
	fileURLToPath(new URL('../server/main.js', import.meta.url)),
);

/** `bundle` when it exists and is at least as new as `main`, else `main`. */
function chooseHostScript(bundle: string, main: string): string {
	const bundled = statSync(bundle, { throwIfNoEntry: false });
	const unbundled = statSync(main, { throwIfNoEntry: false });
	return bundled !== undefined && (unbundled === undefined || bundled.mtimeMs >= unbundled.mtimeMs) ? bundle : main;
}

const MAX_TIMER_MS = 2_147_483_647; // setTimeout's limit; larger values fire at once.

const KNOWN_OPTIONS: readonly (keyof MacroHostOptions)[] = [
	'encoding',
	'requestTimeoutMs',
	'startTimeoutMs',
	'quarantineAfter',
	'restart',
	'stderrTailBytes',
	'shutdownTimeoutMs',
	'forceKillAfterMs',
	'nodePath',
	'hostScript',
	'hostArgs',
	'cwd',
	'env',
	'onStderr',
	'clientName',
	'memoryLimitMiB',
	'warmStandby',
	'bulk',
	'expansionCache',
	'batch',
];

/** Applies every default and checks every option; throws a TypeError naming the first bad one. */
export function normalizeOptions(options: MacroHostOptions | undefined = {}): NormalizedOptions {
	const given = validateObject('options', options) ?? {};
	rejectUnknownKeys('MacroHost', given, KNOWN_OPTIONS);
	const {
		encoding = Encoding.json,
		requestTimeoutMs = 30_000,
		startTimeoutMs = 10_000,
		quarantineAfter = DEFAULT_QUARANTINE_AFTER,
		restart,
		memoryLimitMiB = DEFAULT_MEMORY_LIMIT_MIB,
		stderrTailBytes = 4096,
		shutdownTimeoutMs = 5_000,
		forceKillAfterMs = 2_000,
		nodePath = process.execPath,
		hostScript = DEFAULT_HOST_SCRIPT,
		hostArgs = [],
		cwd = process.cwd(),
		env = {},
		onStderr,
		clientName = 'macro-host-client',
		warmStandby = true,
		bulk = {},
		expansionCache = false,
		batch = true,
	} = given as MacroHostOptions;

	const normalized: NormalizedOptions = {
		encoding: validateEncoding(encoding),
		requestTimeoutMs: validateInteger('requestTimeoutMs', requestTimeoutMs, 1, 'milliseconds', MAX_TIMER_MS),
		startTimeoutMs: validateInteger('startTimeoutMs', startTimeoutMs, 1, 'milliseconds', MAX_TIMER_MS),
		quarantineAfter: validateQuarantineAfter(quarantineAfter),
		restart: normalizeRestartPolicy(restart),
		memoryLimitMiB: validateInteger('memoryLimitMiB', memoryLimitMiB, MIN_MEMORY_LIMIT_MIB, 'MiB'),
		stderrTailBytes: validateInteger('stderrTailBytes', stderrTailBytes, 0, 'bytes'),
		shutdownTimeoutMs: validateInteger('shutdownTimeoutMs', shutdownTimeoutMs, 1, 'milliseconds', MAX_TIMER_MS),
		forceKillAfterMs: validateInteger('forceKillAfterMs', forceKillAfterMs, 1, 'milliseconds', MAX_TIMER_MS),
		nodePath: validateNonEmptyString('nodePath', nodePath),
		hostScript: validateNonEmptyString('hostScript', hostScript),
		hostArgs: validateStringArray('hostArgs', hostArgs),
		cwd: validateNonEmptyString('cwd', cwd),
		env: validateEnv(env),
		onStderr: validateCallback('onStderr', onStderr),
		clientName: validateNonEmptyString('clientName', clientName),
		warmStandby: validateBoolean('warmStandby', warmStandby),
		bulk: normalizeBulk(bulk),
		expansionCache: ExpansionCache.open(expansionCache, {
			buildCacheDir: defaultCacheDir(),
			onWarning: (message) => process.emitWarning(message, 'MacroHostExpansionCacheWarning'),
		}),
		batch: validateBoolean('batch', batch),
	};
	return Object.freeze(normalized);
}

function normalizeBulk(value: unknown): BulkSettings | undefined {
	if (value === false) return undefined;
	if (value === null || typeof value !== 'object' || Array.isArray(value)) invalidOption('bulk', 'false or an object {minBytes?, dir?}', value);
	rejectUnknownKeys('bulk', value as Record<string, unknown>, ['minBytes', 'dir']);
	const { minBytes = DEFAULT_BULK_MIN_BYTES, dir } = value as { minBytes?: unknown; dir?: unknown };
	return Object.freeze({
		minBytes: validateInteger('bulk.minBytes', minBytes, 0, 'bytes'),
		root: dir === undefined ? defaultBulkRoot() : resolve(validateNonEmptyString('bulk.dir', dir)),
	});
}

function validateEncoding(value: unknown): Encoding {
	if (!Encoding.is(value)) invalidOption('encoding', `one of ${Encoding.all.map((e) => `"${e}"`).join(', ')}`, value);
	return value;
}

function validateStringArray(name: string, value: unknown): readonly string[] {
	if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) invalidOption(name, 'an array of strings', value);
	return Object.freeze([...value]);
}

function validateEnv(value: unknown): Readonly<Record<string, string | undefined>> {
	const env = validateObject('env', value) ?? {};
	for (const [key, v] of Object.entries(env)) {
		if (v !== undefined && typeof v !== 'string') invalidOption(`env.${key}`, 'a string or undefined', v);
	}
	return Object.freeze({ ...(env as Record<string, string | undefined>) });
}

function validateBoolean(name: string, value: unknown): boolean {
	if (typeof value !== 'boolean') invalidOption(name, 'true or false', value);
	return value;
}

function validateCallback<F>(name: string, value: unknown): F | undefined {
	if (value !== undefined && typeof value !== 'function') invalidOption(name, 'a function', value);
	return value as F | undefined;
}
