// Where JSON.parse gave up, for a reason a person can act on. Node 20's message names only a character
// position ("… at position 812"), and a pretty-printed body is read, and fixed, by its lines.
import { preview } from './rejection.ts';

/** JSON.parse's message, with the line and column it stopped at and the text there when it names a position. */
export function jsonErrorPlace(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position === undefined) return message;
  const at = Math.min(Number(position), text.length);
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const column = at - before.lastIndexOf('\n');
  // Newer Node versions say "(line 4 column 3)" themselves.
  const place = /\bline \d+/.test(message) ? '' : ` (line ${line}, column ${column})`;
  return `${message}${place}, at ${preview(text.slice(at, at + 40))}`;
}
