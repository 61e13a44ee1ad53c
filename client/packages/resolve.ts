/**
 * Dependency resolution: walks the path-dependency graph from a project's Scarb.toml, with exactly one version (one
 * source directory) per package, checks every version requirement, and lists the macro packages to build.
 */
import { existsSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { displayPath, ManifestError, type ManifestDiagnostic } from './errors.js';
import { CARGO_MANIFEST_FILE, MANIFEST_FILE, readManifest, type DependencySpec, type PackageManifest } from './manifest.js';
import { missingPluginTable, type PackageWarning } from './package-warnings.js';
import { satisfies } from './semver.js';

/** A macro package the project needs. */
export interface ResolvedMacroPackage {
	manifest: PackageManifest;
	/** Names of the packages that depend on it (the root project's name when it is a direct dependency). */
	requiredBy: string[];
	/** Whether the root project's `allow-prebuilt-plugins` covers it (itself or a package that depends on it). */
	prebuiltAllowed: boolean;
}

/** The resolved dependency graph of a project. */
export interface ResolvedProject {
	/** The project's own manifest. */
	root: PackageManifest;
	/** Every package reached, the root first, each once. */
	packages: PackageManifest[];
	/** The macro packages among them, in the order first reached. */
	macroPackages: ResolvedMacroPackage[];
	/**
	 * What is suspicious but not wrong, in package order: each manifest's own warnings, and a path dependency that
	 * looks like a macro package (Rust sources) but has no `[cairo-plugin]`.
	 */
	warnings: PackageWarning[];
}

/**
 * Resolves the project in `projectDir` (the directory holding its Scarb.toml, or the Scarb.toml itself).
 * Throws {@link ManifestError} listing every problem with its file:line:col.
 */
export function resolveProject(projectDir: string): ResolvedProject {
	const rootFile = projectDir.endsWith(MANIFEST_FILE) ? resolve(projectDir) : join(resolve(projectDir), MANIFEST_FILE);
	return new Resolver().run(rootFile);
}

interface Reached {
	manifest: PackageManifest;
	/** Who first required it, for conflict messages. */
	firstRequirer: PackageManifest | undefined;
	requirers: PackageManifest[];
}

class Resolver {
	private readonly problems: ManifestDiagnostic[] = [];
	/** Packages by real manifest path. */
	private readonly byPath = new Map<string, Reached>();
	/** Packages by id: one source per package. */
	private readonly byId = new Map<string, Reached>();
	private readonly order: PackageManifest[] = [];
	private readonly dependencyWarnings: PackageWarning[] = [];

	run(rootFile: string): ResolvedProject {
		const root = readManifest(rootFile);
		const rootReached: Reached = { manifest: root, firstRequirer: undefined, requirers: [] };
		this.byPath.set(realPath(root.manifestPath), rootReached);
		this.byId.set(root.id, rootReached);
		this.order.push(root);
		this.visit(root, [realPath(root.manifestPath)]);
		if (this.problems.length > 0) throw new ManifestError(this.problems);

		const allowed = new Set(root.allowPrebuiltPlugins);
		const prebuiltMemo = new Map<PackageManifest, boolean>();
		const isAllowed = (m: PackageManifest, seen: Set<PackageManifest>): boolean => {
			const known = prebuiltMemo.get(m);
			if (known !== undefined) return known;
			if (seen.has(m)) return false;
			seen.add(m);
			// As in Scarb, allowing a package allows the plugins it depends on too.
			const result = allowed.has(m.id) || this.byPath.get(realPath(m.manifestPath))!.requirers.some((r) => isAllowed(r, seen));
			prebuiltMemo.set(m, result);
			return result;
		};
		const macroPackages = this.order
			.filter((m) => m.isMacroPackage)
			.map((manifest) => ({
				manifest,
				requiredBy: this.byPath.get(realPath(manifest.manifestPath))!.requirers.map((r) => r.name),
				prebuiltAllowed: isAllowed(manifest, new Set()),
			}));
		const warnings = [...this.order.flatMap((m) => m.warnings), ...this.dependencyWarnings];
		return { root, packages: this.order, macroPackages, warnings };
	}

	private visit(requirer: PackageManifest, stack: string[]): void {
		for (const dep of requirer.dependencies) {
			const file = join(dep.dir, MANIFEST_FILE);
			const real = realPath(file);
			const cycleAt = stack.indexOf(real);
			if (cycleAt >= 0) {
				const names = [...stack.slice(cycleAt).map((p) => this.byPath.get(p)!.manifest.name), this.byPath.get(real)!.manifest.name];
				this.at(requirer, dep.keyPosition, `dependency cycle: ${names.join(' -> ')}`);
				continue;
			}
			let reached = this.byPath.get(real);
			if (!reached) {
				let manifest: PackageManifest;
				try {
					manifest = readManifest(file);
				} catch (error) {
					if (!(error instanceof ManifestError)) throw error;
					this.problems.push(...error.diagnostics);
					continue;
				}
				reached = { manifest, firstRequirer: requirer, requirers: [] };
				this.byPath.set(real, reached);
				if (!this.checkDependency(requirer, dep, manifest)) continue;
				const sameId = this.byId.get(manifest.id);
				if (sameId) {
					this.conflict(requirer, dep, manifest, sameId);
					continue;
				}
				this.byId.set(manifest.id, reached);
				this.order.push(manifest);
				this.checkLooksLikeMacroPackage(requirer, dep, manifest);
				reached.requirers.push(requirer);
				this.visit(manifest, [...stack, real]);
				continue;
			}
			if (!this.checkDependency(requirer, dep, reached.manifest)) continue;
			const current = this.byId.get(reached.manifest.id);
			if (current !== reached) {
				if (current) this.conflict(requirer, dep, reached.manifest, current);
				continue;
			}
			if (!reached.requirers.includes(requirer)) reached.requirers.push(requirer);
		}
	}

	/** Warns when a dependency without `[cairo-plugin]` has Rust sources and no Cairo ones: most likely the table was forgotten. */
	private checkLooksLikeMacroPackage(requirer: PackageManifest, dep: DependencySpec, found: PackageManifest): void {
		if (found.isMacroPackage || existsSync(join(found.dir, 'src', 'lib.cairo'))) return;
		const evidence = existsSync(join(found.dir, 'src', 'lib.rs')) ? 'Rust sources: src/lib.rs' : existsSync(join(found.dir, CARGO_MANIFEST_FILE)) ? `a ${CARGO_MANIFEST_FILE}` : undefined;
		if (evidence === undefined) return;
		const warned = { name: requirer.name, version: requirer.versionText, manifestPath: requirer.manifestPath };
		this.dependencyWarnings.push(missingPluginTable(warned, dep.name, found.manifestPath, evidence, dep.keyPosition));
	}

	/** The dependency's key names the package found at its path, and the version requirement matches it. */
	private checkDependency(requirer: PackageManifest, dep: DependencySpec, found: PackageManifest): boolean {
		if (dep.id !== found.id) {
			this.at(requirer, dep.keyPosition, `dependency "${dep.name}" points at ${displayPath(found.manifestPath)}, which is package "${found.name}", not "${dep.name}"`);
			return false;
		}
		if (dep.requirement && !satisfies(found.version, dep.requirement)) {
			this.at(
				requirer,
				dep.versionPosition,
				`dependency "${dep.name}" requires version ${dep.requirement.text}, but ${displayPath(found.manifestPath)} is ${found.name} ${found.versionText}`,
			);
			return false;
		}
		return true;
	}

	/** Two sources for one package: name both requirers and both versions. */
	private conflict(requirer: PackageManifest, dep: DependencySpec, found: PackageManifest, existing: Reached): void {
		const first = existing.firstRequirer ?? existing.manifest;
		const what =
			existing.manifest.versionText === found.versionText
				? `from two places: ${existing.manifest.versionText} at ${displayPath(existing.manifest.dir)}, required by ${first.name}, and ${found.versionText} at ${displayPath(found.dir)}, required by ${requirer.name}`
				: `in two versions: ${existing.manifest.versionText} (${displayPath(existing.manifest.dir)}), required by ${first.name}, and ${found.versionText} (${displayPath(found.dir)}), required by ${requirer.name}`;
		this.at(requirer, dep.keyPosition, `package ${found.name} is required ${what}; only one version of a package is allowed`);
	}

	private at(manifest: PackageManifest, pos: { line: number; column: number }, message: string): void {
		this.problems.push({ file: manifest.manifestPath, line: pos.line, column: pos.column, message });
	}
}

function realPath(file: string): string {
	try {
		return realpathSync(file);
	} catch {
		return file;
	}
}
