# The pandas peer of `npm run bench -- --peer pandas`: the hourly series the original design's stack would
# compute, from the same events as NDJSON (one JSON event per line, as produced to Kafka). Per UTC hour,
# event type and metric — for the total ('all'/'*'), per source and per dimension key — count, sum, min,
# max, mean, std (sample) and exact p50/p95/p99 (linear interpolation, as percentile_cont). A numeric field
# of `data` is a metric, a boolean one counts as 0/1, a string field named in the dimension keys is a
# dimension; other strings are not aggregated. Whether a field is a metric is decided over the whole file: a
# field with a string, or with booleans and numbers mixed, in any event is no metric in any. Only data's
# top-level fields count, as in our ingest: a nested object is one field, and no metric.
# An llm_request that reports no cost gets it from the price table as our ingest does (shared/pricing/infer.ts):
# cost_usd = (tokens_in x input + tokens_out x output price per 1k) / 1000 to 12 significant digits, with
# cost_inferred = 1 and cost_usd_inferred = that cost; the table is a JSON list of {model, input_usd_per_1k,
# output_usd_per_1k} (prices valid at every time, no cached-input price: what the benchmark ingests with).
# The file is read in chunks of CHUNK_EVENTS lines, as one reads a file too large to parse whole: each chunk
# is parsed, its costs inferred, and it is cut down to what the series need — the hour (floored at once),
# event type, source and dimensions as categoricals, each metric as float64 — in one frame per event type
# holding only that type's metrics. The chunks' frames are concatenated per type and grouped.
# Prints one JSON document: events, metric values, series rows, the wall seconds of reading (parsing and
# cutting down every chunk) and of everything, peak RSS. Writes every series row to <out.csv> (after the
# timing) for the comparison with ours.
# usage: python peer_pandas.py <events.ndjson> <dimension keys, comma-separated> <price table JSON> <out.csv>
import json
import resource
import sys
import time

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

# a few MiB of NDJSON at a time: smaller chunks cost a few ms each, larger ones only memory
CHUNK_EVENTS = 20_000
QUANTILES = [0.5, 0.95, 0.99]
COST_FIELDS = ['cost_usd', 'cost_inferred', 'cost_usd_inferred']
STATS = ['count', 'sum', 'min', 'max', 'mean', 'std']
COLUMNS = ['timestamp', 'event_type', 'metric', *STATS, 'p50', 'p95', 'p99', 'dimension', 'dimension_value']

HOUR, SOURCE, DIMENSION, METRIC = 'hour', 'source', 'dimension ', 'metric '

# What a data field's values are, in one chunk or (combined) in the whole file.
EMPTY, BOOLEAN, NUMBER, OTHER = 'empty', 'boolean', 'number', 'other'


def kind_of(column):
    values = column.dropna()
    if values.empty:
        return EMPTY
    if pd.api.types.is_bool_dtype(values):
        return BOOLEAN
    if pd.api.types.is_numeric_dtype(values):
        return NUMBER
    # an object column: booleans only, or a mixture (strings, booleans and numbers, nested values)
    return BOOLEAN if values.map(lambda v: isinstance(v, bool)).all() else OTHER


def combined(a, b):
    return b if a in (None, EMPTY) else a if b == EMPTY or a == b else OTHER


def infer_costs(events, data, prices):
    """Adds cost_usd, cost_inferred and cost_usd_inferred to the requests without a cost that have a price."""
    if not prices or 'model' not in data.columns:
        return data
    numeric = lambda name: pd.to_numeric(data[name], errors='coerce') if name in data.columns else None
    tokens_in, tokens_out = numeric('tokens_in'), numeric('tokens_out')
    if tokens_in is None and tokens_out is None:
        return data
    zero = pd.Series(0.0, index=data.index)
    tokens_in = zero if tokens_in is None else tokens_in
    tokens_out = zero if tokens_out is None else tokens_out
    has_cost = pd.Series(False, index=data.index)
    for name in COST_FIELDS:
        if name in data.columns:
            column = data[name]
            if pd.api.types.is_numeric_dtype(column):  # numbers and booleans: only a missing value is no cost
                has_cost |= column.notna()
            else:
                has_cost |= column.map(lambda v: pd.api.types.is_number(v) and not pd.isna(v))
    price_in = data['model'].map({p['model']: p['input_usd_per_1k'] for p in prices})
    price_out = data['model'].map({p['model']: p['output_usd_per_1k'] for p in prices})
    need = (
        (events['event_type'] == 'llm_request')
        & ~has_cost
        & (tokens_in.notna() | tokens_out.notna())
        & price_in.notna()
        & (tokens_in.fillna(0) >= 0)
        & (tokens_out.fillna(0) >= 0)
    )
    micro = tokens_in[need].fillna(0) * price_in[need] + tokens_out[need].fillna(0) * price_out[need]
    cost = (micro / 1000).map(lambda v: float(f'{v:.12g}'))
    for name in COST_FIELDS:
        if name not in data.columns:
            data[name] = np.nan
    data.loc[need, 'cost_usd'] = cost
    data.loc[need, 'cost_inferred'] = 1.0
    data.loc[need, 'cost_usd_inferred'] = cost
    return data


def cut_down(events, dimensions, prices, kinds):
    """The chunk as {event type: compact frame}; records each data field's kind in `kinds`."""
    # data's top-level fields, as our ingest reads them (a nested object is one field, and no metric)
    data = pd.DataFrame(events.pop('data').tolist(), index=events.index)
    data = infer_costs(events, data, prices)
    source = events['source'] if 'source' in events.columns else pd.Series('unknown', index=events.index)
    # the columns: HOUR, SOURCE, DIMENSION + key, METRIC + field (no data field can take a key's place)
    frame = pd.DataFrame(
        {
            HOUR: pd.to_datetime(events['timestamp'], utc=True, format='ISO8601').dt.floor('h'),
            SOURCE: source.fillna('unknown').astype('category'),
        }
    )
    for d in dimensions:
        values = data[d] if d in data.columns else pd.Series(None, index=data.index, dtype=object)
        if not isinstance(values.dtype, pd.StringDtype):
            values = values.where(values.map(lambda v: isinstance(v, str)))
        frame[DIMENSION + d] = values.astype('category')
    keys = list(frame.columns)
    for name in data.columns:
        if name in dimensions:
            continue
        kind = kinds[name] = combined(kinds.get(name), kind_of(data[name]))
        if kind == BOOLEAN:
            frame[METRIC + name] = data[name].map({True: 1.0, False: 0.0}).astype('float64')
        elif kind == NUMBER:
            frame[METRIC + name] = data[name].astype('float64')
    parts = {}
    for event_type, rows in frame.groupby(events['event_type'], sort=False):
        present = [m for m in frame.columns[len(keys) :] if rows[m].notna().any()]
        parts[event_type] = rows[keys + present]
    return parts


def concat(frames, categorical):
    """The frames as one, each categorical column over the union of the frames' categories."""
    for name in categorical:
        categories = union_categoricals([f[name] for f in frames]).categories
        frames = [f.assign(**{name: f[name].cat.set_categories(categories)}) for f in frames]
    return pd.concat(frames, ignore_index=True)


def series(frame, event_type, metrics, by, dimension):
    """The statistics of every metric of `frame` by hour and column `by` (None: the total), one row each."""
    keys = [HOUR] + ([by] if by else [])
    grouped = frame.groupby(keys, sort=False, observed=True)[metrics]
    if grouped.ngroups == 0:
        return None
    stats = grouped.agg(STATS).stack(level=0, future_stack=True)
    stats.index.names = [*keys, 'metric']
    quantiles = grouped.quantile(QUANTILES)
    quantiles.index.names = [*keys, 'q']
    quantiles = quantiles.stack(future_stack=True).unstack('q')
    quantiles.index.names = [*keys, 'metric']
    quantiles.columns = ['p50', 'p95', 'p99']
    out = stats.join(quantiles)
    out = out[out['count'] > 0].reset_index()
    out['timestamp'] = out.pop(HOUR)
    out['event_type'] = event_type
    out['metric'] = out['metric'].str.slice(len(METRIC))
    out['dimension'] = dimension if by else 'all'
    out['dimension_value'] = out.pop(by).astype(object) if by else '*'
    return out


def main():
    path, dimensions = sys.argv[1], [d for d in sys.argv[2].split(',') if d]
    prices, out_path = json.loads(sys.argv[3]), sys.argv[4]
    for price in prices:
        unsupported = set(price) - {'model', 'input_usd_per_1k', 'output_usd_per_1k'}
        if unsupported:
            raise SystemExit(f'price table: {sorted(unsupported)} not supported by this peer')
    started = time.perf_counter()
    kinds, by_type, events = {}, {}, 0
    with pd.read_json(path, lines=True, dtype=False, chunksize=CHUNK_EVENTS) as reader:
        for chunk in reader:
            events += len(chunk)
            for event_type, part in cut_down(chunk, dimensions, prices, kinds).items():
                by_type.setdefault(event_type, []).append(part)
    read_seconds = time.perf_counter() - started
    tables, values = [], 0
    for event_type, parts in by_type.items():
        frame = concat(parts, [SOURCE, *(DIMENSION + d for d in dimensions)])
        del parts[:]
        fields = [c for c in frame.columns if c.startswith(METRIC)]
        metrics = [c for c in fields if kinds[c[len(METRIC) :]] in (BOOLEAN, NUMBER)]
        values += int(frame[metrics].count().sum())
        groupings = [(None, None), (SOURCE, 'source')] + [(DIMENSION + d, d) for d in dimensions]
        tables += [series(frame, event_type, metrics, by, dimension) for by, dimension in groupings]
        del frame
    table = pd.concat([t for t in tables if t is not None], ignore_index=True)[COLUMNS]
    seconds = time.perf_counter() - started
    peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    table['timestamp'] = table['timestamp'].dt.strftime('%Y-%m-%dT%H:%M:%SZ')
    table.to_csv(out_path, index=False, float_format='%.17g')
    json.dump(
        {
            'events': events,
            'values': values,
            'rows': int(len(table)),
            'read_seconds': read_seconds,
            'seconds': seconds,
            'peak_rss_kib': int(peak_rss_kib),
            'pandas': pd.__version__,
            'numpy': np.__version__,
        },
        sys.stdout,
    )


main()
