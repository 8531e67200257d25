// No failure is swallowed without a word: an empty `catch {}` block or a promise `.catch()` that
// discards the error (`() => undefined`, `() => {}`) must either log or carry a comment saying why it may
// stay silent (on the line before, on its own line, or inside the block). Applies to the code that ships
// or runs: functions/, shared/, runtime/, templates/, scripts/, bench/.
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import test from 'ava';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '../..');
const SCANNED = ['functions', 'shared', 'runtime', 'templates', 'scripts', 'bench'];

/** A handler that throws the error away: returns nothing, undefined, null or void 0. */
function discards(fn: ts.Expression): boolean {
  if (!ts.isArrowFunction(fn) && !ts.isFunctionExpression(fn)) return false;
  const body = fn.body;
  if (ts.isBlock(body)) return body.statements.length === 0;
  const text = body.getText();
  return text === 'undefined' || text === 'null' || text === 'void 0' || text === '{}';
}

function hasComment(source: ts.SourceFile, node: ts.Node): boolean {
  const text = source.getFullText();
  // inside the node (an empty block holding only a comment) or trailing on its last line
  const lineEnd = text.indexOf('\n', node.getEnd());
  const inner = text.slice(node.getStart(source), lineEnd < 0 ? text.length : lineEnd);
  if (/\/\/|\/\*/.test(inner)) return true;
  // comment lines right above the statement that holds it
  let statement: ts.Node = node;
  while (statement.parent && !ts.isBlock(statement.parent) && !ts.isSourceFile(statement.parent)) {
    statement = statement.parent;
  }
  const ranges = ts.getLeadingCommentRanges(text, statement.getFullStart()) ?? [];
  if (ranges.length > 0) return true;
  // a comment on the line above the `.catch(` itself (inside a long chain or argument list)
  const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
  const previous = text.split('\n')[line - 1] ?? '';
  return /^\s*(\/\/|\/\*|\*)/.test(previous);
}

export function silentFailures(code: string, file = 'x.ts'): string[] {
  const source = ts.createSourceFile(file, code, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const where = (node: ts.Node) =>
    `${file}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`;
  const visit = (node: ts.Node): void => {
    if (ts.isCatchClause(node) && node.block.statements.length === 0 && !hasComment(source, node.block)) {
      found.push(`${where(node)} empty catch block`);
    }
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.name.text === 'catch' &&
      node.arguments.length === 1 &&
      discards(node.arguments[0]!) &&
      !hasComment(source, node.expression.name)
    ) {
      found.push(`${where(node.expression.name)} .catch() that drops the error`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

test('the scanner finds silent catches and accepts the ones that say why', (t) => {
  const code = [
    'try { a(); } catch {}',
    'try { a(); } catch {\n  // the file may be gone already\n}',
    'await p.catch(() => undefined);',
    '// a closed socket has nothing left to say',
    'await p.catch(() => undefined);',
    'await q.catch(() => {}); // best effort',
    'await r.catch((err) => log.warn({ err }, "x"));',
  ].join('\n');
  t.deepEqual(silentFailures(code), ['x.ts:1 empty catch block', 'x.ts:5 .catch() that drops the error']);
});

test('no failure in the shipped code is swallowed without a log line or a comment saying why', async (t) => {
  const offenders: string[] = [];
  for (const dir of SCANNED) {
    const entries = await readdir(join(ROOT, dir), { recursive: true, withFileTypes: true });
    for (const e of entries) {
      if (!e.isFile() || !e.name.endsWith('.ts')) continue;
      const path = join(e.parentPath, e.name);
      offenders.push(...silentFailures(readFileSync(path, 'utf8'), relative(ROOT, path)));
    }
  }
  t.deepEqual(offenders, []);
});
