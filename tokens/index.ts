/**
 * Tokens: the tokenizer, the token printer, token text, the line index and the output check. Pure code over flat
 * TokenStreams (no I/O, no process): the client, the driver, the CLI and the host all import it from here.
 */
export { tokenize, sliceTokens, type FlatTokenStream, type TokenizeOptions, type TokenizeResult, type TokenizeError } from './tokenizer.js';
export { printTokens, type PrintOptions } from './token-printer.js';
export { TokenTextReader, textReader, tokenText } from './token-text.js';
export { LineIndex, type LineColumn } from './line-index.js';
export { checkTokenStream, type TokenStreamProblem } from './output-check.js';
