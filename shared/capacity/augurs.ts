// @bsull/augurs (Grafana Labs' forecasting library, Rust compiled to WASM): MSTL with an AutoETS trend.
// The module's default init fetches its .wasm by URL, which Node cannot do for a file URL; the bytes are
// read from the package file instead (or, in a bundled function, from the copy next to index.js that
// templates/node20-ts/bundle.ts puts there) and instantiated synchronously once per process.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initSync, MSTL } from '@bsull/augurs/mstl';

export const MSTL_WASM = 'mstl_bg.wasm';

let ready = false;

/** Where mstl_bg.wasm is: beside the package's mstl.js, else beside this (bundled) module. */
export function mstlWasmPath(): string {
  try {
    const js = createRequire(import.meta.url).resolve('@bsull/augurs/mstl');
    const file = join(dirname(js), MSTL_WASM);
    if (existsSync(file)) return file;
  } catch {
    // bundled: no node_modules
  }
  return fileURLToPath(new URL(`./${MSTL_WASM}`, import.meta.url));
}

function ensureMstl(): void {
  if (ready) return;
  initSync({ module: readFileSync(mstlWasmPath()) });
  ready = true;
}

export interface ModelForecast {
  point: number[];
  /** Half-widths of the model's own 95 % interval per step (the shape the conformal step rescales). */
  halfWidth95: number[];
}

/**
 * Fits MSTL (seasonal periods `periods`, AutoETS on the seasonally adjusted series) to `y` and forecasts
 * `horizon` steps with the model's 95 % interval. Throws when the library does (a panic becomes an Error).
 */
export function mstlForecast(
  y: ArrayLike<number>,
  periods: readonly number[],
  horizon: number,
): ModelForecast {
  ensureMstl();
  const model = MSTL.ets(Uint32Array.from(periods));
  try {
    model.fit(Float64Array.from(y as ArrayLike<number>));
    const forecast = model.predict(horizon, 0.95);
    const { point } = forecast;
    const lower = forecast.intervals?.lower;
    const upper = forecast.intervals?.upper;
    if (point.length !== horizon || !point.every(Number.isFinite)) {
      throw new Error(
        `MSTL returned ${point.length} points for a horizon of ${horizon}, or non-finite values`,
      );
    }
    const halfWidth95 = point.map((_, i) => {
      const width = (upper?.[i] ?? NaN) - (lower?.[i] ?? NaN);
      return Number.isFinite(width) ? Math.max(0, width / 2) : 0;
    });
    return { point, halfWidth95 };
  } finally {
    model.free();
  }
}
