/**
 * A package's build warning as a driver diagnostic, pointing at its Scarb.toml: the one diagnostic the
 * client's driver makes from what client/packages/ found, so it lives beside the driver and not in the
 * shared engine (expansion/).
 */
import type { DriverDiagnostic } from '../../expansion/diagnostics.js';
import type { PackageWarning } from '../packages/package-warnings.js';

/**
 * A package warning from the build, pointing at the package's Scarb.toml (as `displayPath` shows it); with the
 * manifest's text, a warning at a key gets the key's span, so it renders with the line and a caret.
 */
export function fromPackageWarning(warning: PackageWarning, displayPath: string, manifestText?: string): DriverDiagnostic {
	const diagnostic = { severity: 'warning', code: 'package-warning', message: warning.message, file: displayPath, package: warning.package } as const;
	if (warning.position === undefined || manifestText === undefined) return diagnostic;
	const lines = manifestText.split('\n');
	if (warning.position.line > lines.length) return diagnostic;
	// Positions count UTF-16 units from 1; spans count UTF-8 bytes of the whole file.
	const lineStart = lines.slice(0, warning.position.line - 1).reduce((n, line) => n + line.length + 1, 0);
	const index = lineStart + warning.position.column - 1;
	const word = /^[^\s=\]]+/.exec(manifestText.slice(index))?.[0] ?? '';
	const start = Buffer.byteLength(manifestText.slice(0, index), 'utf8');
	return { ...diagnostic, span: { start, end: start + Math.max(1, Buffer.byteLength(word, 'utf8')) } };
}
