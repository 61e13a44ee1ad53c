/**
 * A real nginx (Debian's nginx-light, which has the WebDAV module) serving a Bazel-layout HTTP cache
 * on a loopback port: GET reads files under its root, PUT writes them (`dav_methods PUT`,
 * `create_full_put_path on`). Started in the foreground (by the remote cache tests and the expansion-cache bench rows) and stopped after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';

/** A running nginx. */
export interface Nginx {
	/** `http://127.0.0.1:<port>/cache`. */
	readonly url: string;
	/** The directory the cache's files are in (`<root>/cache/ac/…`, `<root>/cache/cas/…`). */
	readonly cacheRoot: string;
	stop(): Promise<void>;
}

/** Where nginx is: on PATH, or /usr/sbin (not on every user's PATH). */
export function findNginx(): string {
	for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin']) {
		const path = join(dir, 'nginx');
		if (dir !== '' && existsSync(path)) return path;
	}
	throw new Error('nginx is not installed: `apt-get install nginx-light` (bash .ci/run installs it)');
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const port = (server.address() as { port: number }).port;
	await new Promise<void>((resolve) => server.close(() => resolve()));
	return port;
}

/** Starts nginx in `dir` (config, logs, data) and waits until it accepts connections. */
export async function startNginx(dir: string): Promise<Nginx> {
	const port = await freePort();
	const data = join(dir, 'data');
	mkdirSync(join(data, 'cache'), { recursive: true });
	mkdirSync(join(dir, 'temp'), { recursive: true });
	const temp = (name: string): string => `${name}_temp_path ${join(dir, 'temp', name)};`;
	// Workers run as the user who started nginx (as root, nginx would otherwise switch to nobody, who cannot write here).
	const user = process.getuid?.() === 0 ? 'user root;\n' : '';
	writeFileSync(
		join(dir, 'nginx.conf'),
		`${user}daemon off;\nmaster_process off;\nworker_processes 1;\npid ${join(dir, 'nginx.pid')};\nerror_log ${join(dir, 'error.log')} warn;\n` +
			`events { worker_connections 1024; }\n` +
			`http {\n  access_log off;\n  ${temp('client_body')}\n  ${temp('proxy')}\n  ${temp('fastcgi')}\n  ${temp('uwsgi')}\n  ${temp('scgi')}\n` +
			`  server {\n    listen 127.0.0.1:${port};\n    root ${data};\n    client_max_body_size 64m;\n` +
			`    location /cache/ {\n      dav_methods PUT;\n      create_full_put_path on;\n      dav_access user:rw group:r all:r;\n    }\n  }\n}\n`,
	);
	const child = spawn(findNginx(), ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
	let stderr = '';
	child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
	await waitForPort(port, child, () => stderr);
	return { url: `http://127.0.0.1:${port}/cache`, cacheRoot: join(data, 'cache'), stop: () => stop(child) };
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
	const deadline = Date.now() + 10_000;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${stderr()}`);
		const isOpen = await new Promise<boolean>((resolve) => {
			const socket = connect(port, '127.0.0.1');
			socket.once('connect', () => (socket.destroy(), resolve(true)));
			socket.once('error', () => resolve(false));
		});
		if (isOpen) return;
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
	child.kill('SIGKILL');
	throw new Error(`nginx did not listen on port ${port} within 10 s: ${stderr()}`);
}

async function stop(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	child.kill('SIGTERM');
	await exited;
}
