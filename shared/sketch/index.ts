export {
  GAMMA,
  KEY_GUARD,
  LN_GAMMA,
  MAX_KEY,
  MIN_INDEXABLE,
  MIN_KEY,
  NEGATIVE_POWERS,
  POSITIVE_POWERS,
  RELATIVE_ACCURACY,
  REPRESENTATIVE_FACTOR,
  isValidBin,
  keyBoundary,
  keyValue,
  sketchKey,
  type SketchKey,
  type SketchSign,
} from './mapping.ts';
export { QuantileSketch, type SketchBin } from './quantile-sketch.ts';
export {
  DEFAULT_QUANTILES,
  sqlFloat8,
  sqlKey,
  sqlKeyBoundary,
  sqlKeyValue,
  sqlQuantileQuery,
  sqlSign,
  type QuantileQueryOptions,
} from './sql.ts';
