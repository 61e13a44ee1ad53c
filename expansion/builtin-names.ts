/**
 * The Cairo language's own attribute and derive names. The driver never suggests a macro for them:
 * `#[inline]` is not a typo of a macro `inlined`, nor `Drop` of a derive `Drops`.
 */

/** Attributes the Cairo compiler itself knows (never a misspelt macro). */
export const BUILTIN_ATTRIBUTES: ReadonlySet<string> = new Set([
	'derive', 'inline', 'must_use', 'generate_trait', 'test', 'should_panic', 'available_gas', 'ignore', 'cfg',
	'doc', 'feature', 'allow', 'deprecated', 'unstable', 'phantom', 'implicit_precedence', 'executable',
	'starknet', 'contract', 'interface', 'component', 'embeddable', 'embeddable_as', 'storage', 'event',
	'external', 'abi', 'constructor', 'l1_handler', 'key', 'flat', 'nested', 'substorage', 'storage_node',
	'allow_attr', 'path', 'default',
]);

/** Derives the Cairo compiler itself provides. */
export const BUILTIN_DERIVES: ReadonlySet<string> = new Set([
	'Copy', 'Clone', 'Drop', 'Destruct', 'PanicDestruct', 'Debug', 'Default', 'PartialEq', 'Hash', 'Serde',
	'Store', 'Event', 'Display', 'Zeroable',
]);
