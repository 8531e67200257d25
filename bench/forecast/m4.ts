// The M4 Hourly data as published with the competition: Hourly-train.csv (one row per series: id, then
// its values, ragged) and Hourly-test.csv (the next 48 values). Read from a folder given on the command
// line; the data is never copied into the repository.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface M4Series {
  id: string;
  train: number[];
  test: number[];
}

function parseRows(text: string, file: string): Map<string, number[]> {
  const rows = new Map<string, number[]>();
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  for (const line of lines.slice(1)) {
    const cells = line.split(',').map((c) => c.replace(/^"|"$/g, ''));
    const id = cells[0] ?? '';
    const values = cells
      .slice(1)
      .filter((c) => c !== '')
      .map(Number);
    if (id === '' || values.some((v) => !Number.isFinite(v)))
      throw new Error(`${file}: row "${line.slice(0, 40)}…" is not an id followed by numbers`);
    rows.set(id, values);
  }
  return rows;
}

export async function loadM4Hourly(dir: string): Promise<M4Series[]> {
  const read = async (name: string) => {
    const file = join(dir, name);
    try {
      return parseRows(await readFile(file, 'utf8'), file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new Error(
          `${file} does not exist: pass the M4 Hourly folder with --data <dir> or HXP_M4_HOURLY_DIR ` +
            '(it holds Hourly-train.csv and Hourly-test.csv)',
        );
      throw err;
    }
  };
  const [train, test] = await Promise.all([read('Hourly-train.csv'), read('Hourly-test.csv')]);
  return [...train].map(([id, values]) => {
    const future = test.get(id);
    if (!future) throw new Error(`series ${id} has no row in Hourly-test.csv`);
    return { id, train: values, test: future };
  });
}
