import { openEmbeddedDatabase } from './embedded.ts';
import { createPoolDatabase } from './pool.ts';
import type { Database } from './types.ts';

export interface DatabaseOptions {
  /** postgres:// URL; absent means the embedded PGlite. */
  url?: string | undefined;
  poolSize?: number;
  /** PGlite data folder in embedded mode; absent keeps it in memory. */
  embeddedDataDir?: string | undefined;
}

export async function openDatabase(options: DatabaseOptions = {}): Promise<Database> {
  if (!options.url) return openEmbeddedDatabase({ dataDir: options.embeddedDataDir });
  return createPoolDatabase({ connectionString: options.url, max: options.poolSize ?? 10 });
}
