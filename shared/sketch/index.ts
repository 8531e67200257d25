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
  BIN_OFFSET,
  binKey,
  binOf,
  binSign,
  isValidBin,
  keyBoundary,
  keyValue,
  sketchBin,
  sketchKey,
  type SketchKey,
  type SketchSign,
} from './mapping.ts';
export { BinCounts, binArrays, type BinArrays } from './bin-counts.ts';
export { BinsBytesError, BinsMerger, encodeBins } from './bins-bytes.ts';
export { QuantileSketch, clampedToRange, sortedBinsQuantile, type SketchBin } from './quantile-sketch.ts';
export {
  DEFAULT_QUANTILES,
  sqlBinArrays,
  sqlFloat8,
  sqlKey,
  sqlKeyBoundary,
  sqlKeyValue,
  sqlQuantileQuery,
  sqlSign,
  sqlSortedBinQuantiles,
  type QuantileQueryOptions,
  type SortedBinQuantileOptions,
} from './sql.ts';
