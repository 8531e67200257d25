// The sketch's SQL fragments, owned by shared/sketch (DDSketch mapping, α = 0.01); re-exported here so the
// aggregation statements have one import site.
export { sqlKey, sqlQuantileQuery, sqlSign } from '../sketch/index.ts';
