import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { describe, expect, it } from 'vitest';
import {
	ExitNotification,
	ExpandInlineRequest,
	InitializeRequest,
	LoadLibraryRequest,
	PROTOCOL_VERSION,
	ShutdownRequest,
	TokenKind,
} from '../../dist/protocol/index.js';
import { CLI, LIBC_BASIC } from './run-cli.js';

describe('macro-host serve', () => {
	it('runs the host on stdin/stdout: initialize, load, expand, shutdown and exit 0', async () => {
		const child = spawn(process.execPath, [CLI, 'serve', '--encoding', 'json'], { stdio: ['pipe', 'pipe', 'pipe'] });
		const exited = once(child, 'exit');
		const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
		connection.listen();
		try {
			const init = await connection.sendRequest(InitializeRequest.type, { protocolVersion: PROTOCOL_VERSION });
			expect(init).toMatchObject({ protocolVersion: PROTOCOL_VERSION, serverInfo: { name: 'macro-host' }, pid: child.pid });
			expect(init.capabilities.encoding).toBe('json');
			const info = await connection.sendRequest(LoadLibraryRequest.type, { path: LIBC_BASIC });
			expect(info.macros.map((m) => m.name)).toContain('wrap');
			const result = await connection.sendRequest(ExpandInlineRequest.type, {
				name: 'wrap',
				args: { text: 'a', records: [TokenKind.ident, 0, 0, 1, 0, 1] },
			});
			expect(result.outcome).toBe('replace');
			expect(result.tokens?.text).toContain('a');
			await connection.sendRequest(ShutdownRequest.type);
			await connection.sendNotification(ExitNotification.type);
			const [code, signal] = await exited;
			expect({ code, signal }).toEqual({ code: 0, signal: null });
		} finally {
			connection.dispose();
			child.kill('SIGKILL');
		}
	});
});
