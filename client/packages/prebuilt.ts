/**
 * Prebuilt macro libraries, as Scarb's `allow-prebuilt-plugins` has them: a macro package may ship
 * `target/scarb/cairo-plugin/<name>_v<version>_<target-triple>.<ext>`, and a project that allows it loads that file
 * without running cargo. A wasm package's file is `<name>_v<version>_wasm32-unknown-unknown.wasm`, the same on every
 * platform.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { PackageManifest } from './manifest.js';
import { WASM_TARGET } from './wasm-build.js';

let memoTriple: string | undefined;

/** The Rust target triple of this process's platform, e.g. `x86_64-unknown-linux-gnu`. */
export function hostTargetTriple(): string {
	return (memoTriple ??= computeTargetTriple());
}

function computeTargetTriple(): string {
	const arch = ({ x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', arm: 'armv7', riscv64: 'riscv64gc', ppc64: 'powerpc64le', s390x: 's390x' } as Record<string, string>)[
		process.arch
	] ?? process.arch;
	switch (process.platform) {
		case 'darwin':
			return `${arch}-apple-darwin`;
		case 'win32':
			return `${arch}-pc-windows-msvc`;
		case 'linux': {
			// glibc reports its version in the process report; musl systems do not.
			// The report costs milliseconds; it is taken once per process, without its network section.
			const report = process.report as NodeJS.ProcessReport & { excludeNetwork?: boolean };
			const excludeNetwork = report.excludeNetwork;
			report.excludeNetwork = true;
			const header = (report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
			report.excludeNetwork = excludeNetwork;
			const libc = header?.glibcVersionRuntime ? 'gnu' : 'musl';
			return `${arch}-unknown-linux-${arch === 'armv7' ? `${libc}eabihf` : libc}`;
		}
		default:
			return `${arch}-unknown-${process.platform}`;
	}
}

/** The file extension of a shared library on this platform. */
export function sharedLibraryExtension(): string {
	return process.platform === 'darwin' ? 'dylib' : process.platform === 'win32' ? 'dll' : 'so';
}

/** The target triple a package's library is built for: this platform's, or wasm32's for a wasm package. */
export function packageTargetTriple(manifest: PackageManifest): string {
	return manifest.pluginTarget === 'wasm' ? WASM_TARGET : hostTargetTriple();
}

/** Where `manifest`'s package would ship its prebuilt library for `targetTriple`. */
export function prebuiltLibraryPath(manifest: PackageManifest, targetTriple: string): string {
	const ext = targetTriple === WASM_TARGET ? 'wasm' : sharedLibraryExtension();
	return join(manifest.dir, 'target', 'scarb', 'cairo-plugin', `${manifest.id}_v${manifest.versionText}_${targetTriple}.${ext}`);
}

/** The prebuilt library's path when the package ships one for `targetTriple`, else undefined. */
export function findPrebuiltLibrary(manifest: PackageManifest, targetTriple: string): string | undefined {
	const path = prebuiltLibraryPath(manifest, targetTriple);
	try {
		return statSync(path).isFile() ? path : undefined;
	} catch {
		return undefined;
	}
}
