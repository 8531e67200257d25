// Reading rendered reports back the way a person's tools would: PDF text (poppler's pdftotext), PDF pages as
// images (pdftoppm, grey PGM), DOCX table rows from word/document.xml, CSV records (csv-parse).
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { strFromU8, unzipSync } from 'fflate';

const run = promisify(execFile);

async function withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'hxp-report-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The PDF's text with its layout kept (a table row stays on one line). */
export function pdfText(pdf: Buffer): Promise<string> {
  return withTemp(async (dir) => {
    await writeFile(join(dir, 'r.pdf'), pdf);
    const { stdout } = await run('pdftotext', ['-layout', join(dir, 'r.pdf'), '-'], {
      maxBuffer: 64 * 2 ** 20,
    });
    return stdout;
  });
}

/** For each page: the share of pixels that are not white (rendered at 30 dpi in grey). */
export function pdfPageInk(pdf: Buffer): Promise<number[]> {
  return withTemp(async (dir) => {
    await writeFile(join(dir, 'r.pdf'), pdf);
    await run('pdftoppm', ['-gray', '-r', '30', join(dir, 'r.pdf'), join(dir, 'page')]);
    const pages = (await readdir(dir)).filter((f) => f.endsWith('.pgm')).sort();
    const ink: number[] = [];
    for (const page of pages) {
      const data = await readFile(join(dir, page));
      // P5 header: magic, width, height, maxval, each followed by whitespace
      const header = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(data.subarray(0, 64).toString('latin1'));
      if (!header) throw new Error(`${page}: not a binary PGM`);
      const pixels = data.subarray(header[0].length);
      let dark = 0;
      for (const p of pixels) if (p < 240) dark += 1;
      ink.push(dark / pixels.length);
    }
    return ink;
  });
}

function decodeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** word/document.xml of a DOCX. */
export function docxXml(docx: Buffer): string {
  const files = unzipSync(new Uint8Array(docx));
  const xml = files['word/document.xml'];
  if (!xml) throw new Error('no word/document.xml in the DOCX');
  return strFromU8(xml);
}

/** Every table row of the DOCX as its cells' text. */
export function docxTableRows(docx: Buffer): string[][] {
  const xml = docxXml(docx);
  const rows: string[][] = [];
  for (const tr of xml.match(/<w:tr\b[\s\S]*?<\/w:tr>/g) ?? []) {
    const cells = (tr.match(/<w:tc\b[\s\S]*?<\/w:tc>/g) ?? []).map((tc) =>
      decodeXml(
        (tc.match(/<w:t(?:\s[^>]*)?>([^<]*)<\/w:t>/g) ?? []).map((t) => t.replace(/<[^>]+>/g, '')).join(''),
      ),
    );
    rows.push(cells);
  }
  return rows;
}

/** The DOCX's headings (paragraphs with a Heading/Title style) in order. */
export function docxHeadings(docx: Buffer): Array<{ style: string; text: string }> {
  const xml = docxXml(docx);
  const out: Array<{ style: string; text: string }> = [];
  for (const p of xml.match(/<w:p\b[\s\S]*?<\/w:p>/g) ?? []) {
    const style = /<w:pStyle w:val="([^"]+)"/.exec(p)?.[1];
    if (!style || !/^(Title|Heading\d)$/.test(style)) continue;
    out.push({
      style,
      text: decodeXml(
        (p.match(/<w:t(?:\s[^>]*)?>([^<]*)<\/w:t>/g) ?? []).map((t) => t.replace(/<[^>]+>/g, '')).join(''),
      ),
    });
  }
  return out;
}

export function csvRecords(csv: Buffer): Array<Record<string, string>> {
  return parse(csv, { columns: true, skip_empty_lines: false }) as Array<Record<string, string>>;
}
