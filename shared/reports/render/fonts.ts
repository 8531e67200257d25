// The fonts of every rendered report: Roboto as pdfmake ships it (Apache-2.0), embedded in the PDF and given to
// resvg for chart PNGs, so no system font is needed. Found next to the running module (a function bundle
// copies them to fonts/ beside index.js) or in the installed pdfmake package.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatchError } from '../../errors/index.ts';

export const FONT_FAMILY = 'Roboto';
export const FONT_STYLES = {
  normal: 'Roboto-Regular.ttf',
  bold: 'Roboto-Medium.ttf',
  italics: 'Roboto-Italic.ttf',
  bolditalics: 'Roboto-MediumItalic.ttf',
} as const;

let found: string | undefined;

/** The folder holding the Roboto files. */
export function fontDir(): string {
  if (found) return found;
  const candidates = [fileURLToPath(new URL('./fonts/', import.meta.url))];
  try {
    candidates.push(
      dirname(createRequire(import.meta.url).resolve(`pdfmake/fonts/Roboto/${FONT_STYLES.normal}`)),
    );
  } catch {
    // not installed as a package (a bundle): only the folder beside the module
  }
  found = candidates.find((dir) => existsSync(join(dir, FONT_STYLES.normal)));
  if (!found) {
    throw new BatchError(
      'REPORT_RENDER_FAILED',
      `the report fonts (Roboto) are in none of ${candidates.join(', ')}`,
      {
        context: { candidates },
      },
    );
  }
  return found;
}

export function fontFiles(): string[] {
  return Object.values(FONT_STYLES).map((file) => join(fontDir(), file));
}
