// GET /aggregates/catalogue: what a UI needs to build its pickers — the event types, their metrics, their
// dimensions and values, each with the first and last bucket it has per level.
import { LEVELS, type Level } from '../aggregate/index.ts';
import { aggregationJobName } from '../jobs/index.ts';
import { catalogueRows, lastChangeOf } from './aggregates-sql.ts';
import { DELETING_JOBS } from './aggregates.ts';
import { cacheHeaders, notModified, validatorsOf } from './cache.ts';
import { CatalogueQuerySchema } from './request.ts';
import type { Catalogue, LevelRanges } from './answers.ts';
import type { ReadAnswer, ReadContext, ReadRequest } from './types.ts';

function widen(ranges: LevelRanges, level: Level, first: string, last: string): void {
  const had = ranges[level];
  ranges[level] = had
    ? { first: had.first < first ? had.first : first, last: had.last > last ? had.last : last }
    : { first, last };
}

export async function buildCatalogue(ctx: ReadContext): Promise<Catalogue> {
  const rows = await catalogueRows(ctx.db);
  const types = new Map<string, Catalogue['event_types'][number]>();
  for (const row of rows) {
    let type = types.get(row.event_type);
    if (!type) {
      type = { event_type: row.event_type, levels: {}, metrics: [], dimensions: [] };
      types.set(row.event_type, type);
    }
    const first = new Date(row.first).toISOString();
    const last = new Date(row.last).toISOString();
    if (row.value === null) {
      let metric = type.metrics.find((m) => m.metric === row.name);
      if (!metric) type.metrics.push((metric = { metric: row.name, levels: {} }));
      widen(metric.levels, row.level, first, last);
      widen(type.levels, row.level, first, last);
    } else {
      let dimension = type.dimensions.find((d) => d.dimension === row.name);
      if (!dimension) type.dimensions.push((dimension = { dimension: row.name, values: [] }));
      let value = dimension.values.find((v) => v.value === row.value);
      if (!value) dimension.values.push((value = { value: row.value, levels: {} }));
      widen(value.levels, row.level, first, last);
    }
  }
  return { time_zone: ctx.timeZone, levels: [...LEVELS], event_types: [...types.values()] };
}

export async function answerCatalogue(ctx: ReadContext, req: ReadRequest): Promise<ReadAnswer> {
  CatalogueQuerySchema.parse(req.query);
  const change = await lastChangeOf(
    ctx.db,
    LEVELS.map(aggregationJobName),
    undefined,
    undefined,
    DELETING_JOBS,
  );
  const validators = validatorsOf({ route: 'catalogue' }, change);
  const headers = cacheHeaders(validators);
  if (notModified(req.headers, validators)) return { status: 304, headers, body: undefined };
  return { status: 200, headers, body: await buildCatalogue(ctx) };
}
