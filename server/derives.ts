/**
 * Derives on one item: each derive is one call of its library's backend, and the answers merge by
 * one rule, whatever kinds of library the derives come from.
 */
import { RECORD_WIDTH, RecordField } from '../protocol/token-stream.js';
import type { Diagnostic } from '../protocol/expand.js';
import { describeMacro, type ExpandInput, type Expansion, type FlatTokenStream, type MacroTarget, type MaybePromise } from './library-model.js';
import { badResult } from './result-checks.js';

/**
 * Expands the derives on one item in order; synchronous while every backend answers at once (a
 * native library), asynchronous from the first one that answers later (a wasm module).
 */
export function expandDerives(targets: readonly MacroTarget[], input: ExpandInput): MaybePromise<Expansion> {
	const one: ExpandInput = { item: input.item, callSite: input.callSite };
	const answers: { target: MacroTarget; expansion: Expansion }[] = [];
	for (let i = 0; i < targets.length; i++) {
		const target = targets[i];
		const expansion = target.library.backend.expand(target.macro, one);
		if (expansion instanceof Promise) return finishLater(targets, i, expansion, one, answers);
		answers.push({ target, expansion });
	}
	return mergeDerives(answers);
}

async function finishLater(
	targets: readonly MacroTarget[],
	from: number,
	pending: Promise<Expansion>,
	input: ExpandInput,
	answers: { target: MacroTarget; expansion: Expansion }[],
): Promise<Expansion> {
	answers.push({ target: targets[from], expansion: await pending });
	for (let i = from + 1; i < targets.length; i++) {
		answers.push({ target: targets[i], expansion: await targets[i].library.backend.expand(targets[i].macro, input) });
	}
	return mergeDerives(answers);
}

/**
 * Merges the answers of the derives on one item. The rule, as Scarb does it:
 * - outputs of the derives that replaced are concatenated (text appended, offsets shifted);
 * - diagnostics of all derives are merged in order;
 * - outcome is "replace" when any derive replaced, else "bail" when any bailed, else "leave";
 * - a derive cannot remove the item it is applied to: "remove" counts as "leave", with a warning;
 * - auxData is an array with one entry per derive that attached aux data (absent when none).
 */
export function mergeDerives(answers: readonly { target: MacroTarget; expansion: Expansion }[]): Expansion {
	const parts: FlatTokenStream[] = [];
	const diagnostics: Diagnostic[] = [];
	const auxData: unknown[] = [];
	let anyBail = false;
	for (const { target, expansion: one } of answers) {
		diagnostics.push(...one.diagnostics);
		if ('auxData' in one) auxData.push(one.auxData);
		if (one.outcome === 'replace' && one.tokens) parts.push(one.tokens);
		else if (one.outcome === 'bail') anyBail = true;
		else if (one.outcome === 'remove') {
			diagnostics.push(badResult(`${describeMacro(target.macro, target.library.id)} returned "remove"; a derive only adds code, so the item is kept`, 'warning'));
		}
	}
	const result: Expansion = parts.length
		? { outcome: 'replace', tokens: concatStreams(parts), diagnostics }
		: { outcome: anyBail ? 'bail' : 'leave', diagnostics };
	if (auxData.length) result.auxData = auxData;
	return result;
}

/** Appends streams: text back to back, each stream's text offsets shifted by the bytes before it. */
function concatStreams(parts: readonly FlatTokenStream[]): FlatTokenStream {
	if (parts.length === 1) return parts[0];
	let total = 0;
	for (const p of parts) total += p.records.length;
	const records = new Uint32Array(total);
	let at = 0;
	let textBytes = 0;
	for (const p of parts) {
		records.set(p.records, at);
		for (let i = at + RecordField.textOffset; i < at + p.records.length; i += RECORD_WIDTH) records[i] += textBytes;
		at += p.records.length;
		textBytes += Buffer.byteLength(p.text, 'utf8');
	}
	return { text: parts.map((p) => p.text).join(''), records };
}
