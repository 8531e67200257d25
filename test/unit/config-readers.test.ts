// A setting that nothing reads is a defect: every key of the configuration schema must be read by the
// code that ships or runs (functions/, shared/ outside shared/config, runtime/, templates/) or by stack.yml
// (a `${VAR}` that faas-cli and the local runtime expand). Each read key also has a test of its effect
// (see test/integration/function-settings.test.ts and the suites named in docs/configuration.md).
//
// A read is found in the TypeScript syntax tree: a property chain that ends in the key's path
// (`config.kafka.topics.raw`, `source.log.level`), a destructuring of its section
// (`const { url, password } = config.database`), or a spread or computed access of a section
// (`{ ...config.aggregation.cron }`, `intervals[name]`), which reads every key below it.
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import test from 'ava';
import ts from 'typescript';
import { settingKeys, settings } from '../../shared/config/index.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const READERS = ['functions', 'shared', 'runtime', 'templates'];
const NOT_READERS = ['shared/config/']; // the schema and its loader define keys; they do not use them

/**
 * Keys whose readers are being built right now by the issue named beside each: they are listed here so
 * this test can run meanwhile. Each owner deletes their entries when they wire them — the test fails
 * for an entry that has a reader, and for an entry that is no longer a key.
 */
const PENDING: Readonly<Record<string, string>> = {
  // Issue 12 — retention and archival (retention-sweep).
};

const keyPaths = settingKeys.map((key) => ({ key, path: key.split('.') }));

function endsWith(chain: readonly string[], path: readonly string[]): boolean {
  if (chain.length < path.length) return false;
  const offset = chain.length - path.length;
  return path.every((part, i) => chain[offset + i] === part);
}

/** `a.b?.c['d']` → ['a', 'b', 'c', 'd']; undefined when a link is not a plain name. */
function chainOf(node: ts.Expression, aliases: ReadonlyMap<string, string[]>): string[] | undefined {
  if (ts.isIdentifier(node)) return aliases.get(node.text) ?? [node.text];
  if (node.kind === ts.SyntaxKind.ThisKeyword) return ['this'];
  if (ts.isPropertyAccessExpression(node)) {
    const head = chainOf(node.expression, aliases);
    return head && [...head, node.name.text];
  }
  if (ts.isElementAccessExpression(node) && ts.isStringLiteralLike(node.argumentExpression)) {
    const head = chainOf(node.expression, aliases);
    return head && [...head, node.argumentExpression.text];
  }
  if (ts.isNonNullExpression(node) || ts.isParenthesizedExpression(node)) {
    return chainOf(node.expression, aliases);
  }
  return undefined;
}

/** `const r = config.reports` makes `r.formats` a read of `reports.formats`. */
function aliasesOf(source: ts.SourceFile): Map<string, string[]> {
  const aliases = new Map<string, string[]>();
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) {
      const init = node.initializer;
      if (ts.isPropertyAccessExpression(init) || ts.isElementAccessExpression(init)) {
        const chain = chainOf(init, aliases);
        if (chain) aliases.set(node.name.text, chain);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return aliases;
}

const SECTIONS = new Set(
  keyPaths.flatMap(({ path }) => path.slice(0, -1).map((_, i) => path.slice(0, i + 1).join('.'))),
);

/** The chain ends in a whole section, named from its top (`…capacityAnalysis`, `…aggregation.cron`). */
function isSection(chain: readonly string[]): boolean {
  return chain.some((_, i) => SECTIONS.has(chain.slice(i).join('.')));
}

/**
 * A section object given away whole — an argument, a property value, a return value — may have any of
 * its keys read by whoever gets it (`resourceSpecs(config.capacityAnalysis)`), like a spread. Reading a
 * property of it, or naming it in an alias (followed separately), is not that.
 */
function handedOver(node: ts.Expression): boolean {
  const parent = node.parent;
  if (
    (ts.isPropertyAccessExpression(parent) || ts.isElementAccessExpression(parent)) &&
    parent.expression === node
  ) {
    return false;
  }
  if (ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return false;
  return ts.isCallExpression(parent) || ts.isPropertyAssignment(parent) || ts.isReturnStatement(parent);
}

/** Every key the source reads. */
export function keysReadBy(code: string, file = 'x.ts'): Set<string> {
  const read = new Set<string>();
  const sectionRead = (chain: string[], names?: string[]): void => {
    for (const { key, path } of keyPaths) {
      const section = path.slice(0, -1);
      if (names === undefined) {
        // the whole section (and below) is read: keys whose path starts with a suffix of the chain
        for (let cut = 1; cut <= section.length; cut++) {
          if (endsWith(chain, section.slice(0, cut))) read.add(key);
        }
      } else if (endsWith(chain, section) && names.includes(path[path.length - 1]!)) {
        read.add(key);
      }
    }
  };
  const source = ts.createSourceFile(file, code, ts.ScriptTarget.Latest, true);
  const aliases = aliasesOf(source);
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) {
      const chain = chainOf(node, aliases);
      if (chain) {
        for (const { key, path } of keyPaths) if (endsWith(chain, path)) read.add(key);
        const parent = node.parent;
        if (ts.isSpreadAssignment(parent) || ts.isSpreadElement(parent)) sectionRead(chain);
        if (ts.isElementAccessExpression(parent) && parent.expression === node) {
          if (!ts.isStringLiteralLike(parent.argumentExpression)) sectionRead(chain);
        }
        if (ts.isVariableDeclaration(parent) && ts.isObjectBindingPattern(parent.name)) {
          const names = parent.name.elements.map((e) =>
            e.propertyName && ts.isIdentifier(e.propertyName) ? e.propertyName.text : e.name.getText(),
          );
          sectionRead(chain, names);
        } else if (isSection(chain) && handedOver(node)) {
          sectionRead(chain);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return read;
}

/** Keys whose environment variable stack.yml expands (`${VAR}` / `${VAR:-default}`). */
export function keysReadByStack(text: string): Set<string> {
  const byEnv = new Map(settingKeys.map((key) => [settings[key].env, key]));
  const read = new Set<string>();
  for (const [, name] of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)) {
    const key = byEnv.get(name!);
    if (key) read.add(key);
  }
  return read;
}

async function readerFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const dir of READERS) {
    const entries = await readdir(join(ROOT, dir), { recursive: true, withFileTypes: true });
    for (const e of entries) {
      const path = relative(ROOT, join(e.parentPath, e.name));
      if (e.isFile() && e.name.endsWith('.ts') && !NOT_READERS.some((p) => path.startsWith(p))) {
        files.push(path);
      }
    }
  }
  return files;
}

async function allReads(): Promise<Map<string, string[]>> {
  const where = new Map<string, string[]>();
  const note = (key: string, file: string) => where.set(key, [...(where.get(key) ?? []), file]);
  for (const file of await readerFiles()) {
    for (const key of keysReadBy(readFileSync(join(ROOT, file), 'utf8'), file)) note(key, file);
  }
  for (const key of keysReadByStack(readFileSync(join(ROOT, 'stack.yml'), 'utf8'))) note(key, 'stack.yml');
  return where;
}

test('the reader scan sees chains, destructuring, spreads and computed access of a section', (t) => {
  const source = `
    const a = config.kafka.topics.raw;
    const { url, password } = config.database;
    const cron = { ...deps.config.aggregation.cron };
    const on = config.aggregation.intervals[levelName];
    const lvl = source.log?.level;
    const r = config.reports;
    const fmt = r.formats;
    const specs = resourceSpecs(deps.config.capacityAnalysis.scaleDown);
    const { port } = something.else;
  `;
  t.deepEqual([...keysReadBy(source)].sort(), [
    'aggregation.cron.daily',
    'aggregation.cron.hourly',
    'aggregation.cron.monthly',
    'aggregation.cron.weekly',
    'aggregation.intervals.daily',
    'aggregation.intervals.hourly',
    'aggregation.intervals.monthly',
    'aggregation.intervals.weekly',
    'capacityAnalysis.scaleDown.percent',
    'capacityAnalysis.scaleDown.weeks',
    'database.password',
    'database.url',
    'kafka.topics.raw',
    'log.level',
    'reports.formats',
  ]);
  t.deepEqual(
    [...keysReadByStack("schedule: '${BATCH_PROCESSING_DAILY_CRON:-0 0 * * *}' ${HOME}")],
    ['aggregation.cron.daily'],
  );
});

test('every setting has a reader, or is pending in the issue that wires it', async (t) => {
  const where = await allReads();
  const unread = settingKeys.filter((key) => !where.has(key) && PENDING[key] === undefined);
  t.deepEqual(
    unread,
    [],
    'these settings are read by nothing: read them (with a test of the effect) or remove them from shared/config/schema.ts, keys.ts and the docs',
  );
});

test('the pending list holds only keys that exist and still have no reader', async (t) => {
  const where = await allReads();
  const entries = Object.entries(PENDING);
  t.deepEqual(
    entries.filter(([key]) => !(settingKeys as readonly string[]).includes(key)).map(([key]) => key),
    [],
    'no longer settings: delete them from PENDING',
  );
  t.deepEqual(
    entries
      .filter(([key]) => where.has(key))
      .map(([key, owner]) => `${key} (${owner}): ${where.get(key)!.join(', ')}`),
    [],
    'read now: their owners delete them from PENDING',
  );
});
