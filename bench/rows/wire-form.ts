/**
 * A probe for a wire-format proposal, not a row of the issue: what one 200,000-token stream costs to
 * encode on the client and decode into a Uint32Array on the host, in this process, for records as
 * today's JSON number array, as msgpack's typed array, and as a base64 string of the raw
 * little-endian u32 records inside a JSON body (the proposal; not part of protocol v1).
 */
import { Packr } from 'msgpackr';
import type { BenchContext } from '../context.js';
import type { Row } from '../report.js';
import { measure } from '../stats.js';
import { makeWorkload } from '../workload.js';

const TOKENS = 200_000;

export async function wireFormRows(ctx: BenchContext): Promise<Row[]> {
	const tokens = ctx.sizes.tokenCounts.includes(TOKENS) ? TOKENS : Math.max(...ctx.sizes.tokenCounts);
	const work = makeWorkload(tokens);
	const runs = ctx.sizes.roundTripRuns;
	ctx.progress(`wire form probe: ${tokens.toLocaleString('en-US')} tokens, ${runs} runs`);
	const packr = new Packr({ moreTypes: true, useRecords: false });
	const message = (records: unknown): unknown => ({ jsonrpc: '2.0', id: 1, method: 'expandInline', params: { name: 'noop', args: { text: work.stream.text, records } } });

	const json = await measure(runs, 2, () => {
		const body = Buffer.from(JSON.stringify(message(work.stream.records)), 'utf8');
		const parsed = JSON.parse(body.toString('utf8')) as { params: { args: { records: number[] } } };
		return Uint32Array.from(parsed.params.args.records);
	});
	const msgpack = await measure(runs, 2, () => {
		const body = packr.pack(message(work.typed.records));
		return (packr.unpack(body) as { params: { args: { records: Uint32Array } } }).params.args.records;
	});
	const base64 = await measure(runs, 2, () => {
		const raw = Buffer.from(work.typed.records.buffer, work.typed.records.byteOffset, work.typed.records.byteLength);
		const body = Buffer.from(JSON.stringify(message(raw.toString('base64'))), 'utf8');
		const parsed = JSON.parse(body.toString('utf8')) as { params: { args: { records: string } } };
		const bytes = Buffer.from(parsed.params.args.records, 'base64');
		// Copied into a fresh, aligned buffer: Buffer.from may hand back a slice of its pool.
		return new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
	});
	return [
		{
			id: `wire-form/${tokens}`,
			title: `wire-form probe, ${tokens.toLocaleString('en-US')} tokens: encode + decode, no I/O`,
			unit: 'ms',
			json,
			msgpack,
			floor: base64,
			floorLabel: 'JSON + base64 records',
			theirsNote: 'in-process probe',
			note: 'a proposal for protocol v2, not served today: base64 of the raw u32 records in JSON bodies',
		},
	];
}
