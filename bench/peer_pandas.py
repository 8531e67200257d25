# The pandas peer of `npm run bench -- --peer pandas`: the hourly series the original design's stack would
# compute, from the same events as NDJSON (one JSON event per line, as produced to Kafka). Per UTC hour,
# event type and metric — for the total ('all'/'*'), per source and per dimension key — count, sum, min,
# max, mean, std (sample) and exact p50/p95/p99 (linear interpolation, as percentile_cont). A numeric field
# of `data` is a metric, a boolean one counts as 0/1, a string field named in the dimension keys is a
# dimension; other strings are not aggregated.
# An llm_request that reports no cost gets it from the price table as our ingest does (shared/pricing/infer.ts):
# cost_usd = (tokens_in x input + tokens_out x output price per 1k) / 1000 to 12 significant digits, with
# cost_inferred = 1 and cost_usd_inferred = that cost; the table is a JSON list of {model, input_usd_per_1k,
# output_usd_per_1k} (prices valid at every time, no cached-input price: what the benchmark ingests with).
# Prints one JSON document: events, series rows, the wall seconds of reading and of computing, peak RSS.
# Writes every series row to <out.csv> (after the timing) for the comparison with ours.
# usage: python peer_pandas.py <events.ndjson> <dimension keys, comma-separated> <price table JSON> <out.csv>
import json
import resource
import sys
import time

import numpy as np
import pandas as pd

KEYS = ['timestamp', 'event_type', 'metric', 'dimension', 'dimension_value']
QUANTILES = [0.5, 0.95, 0.99]


def read(path):
    events = pd.read_json(path, lines=True, dtype=False)
    data = pd.json_normalize(events.pop('data').tolist())
    events['timestamp'] = pd.to_datetime(events['timestamp'], utc=True, format='ISO8601').dt.floor('h')
    if 'source' not in events.columns:
        events['source'] = 'unknown'
    events['source'] = events['source'].fillna('unknown')
    return events, data


COST_FIELDS = ['cost_usd', 'cost_inferred', 'cost_usd_inferred']


def infer_costs(events, data, prices):
    """Adds cost_usd, cost_inferred and cost_usd_inferred to the requests without a cost that have a price."""
    for price in prices:
        unsupported = set(price) - {'model', 'input_usd_per_1k', 'output_usd_per_1k'}
        if unsupported:
            raise SystemExit(f'price table: {sorted(unsupported)} not supported by this peer')
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
            has_cost |= data[name].map(lambda v: pd.api.types.is_number(v) and not pd.isna(v))
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
    data = data.copy()
    for name in COST_FIELDS:
        if name not in data.columns:
            data[name] = np.nan
    data.loc[need, 'cost_usd'] = cost
    data.loc[need, 'cost_inferred'] = 1.0
    data.loc[need, 'cost_usd_inferred'] = cost
    return data


def as_metric(column):
    """The column as float64 values (booleans 0/1), or None when it is not a metric (strings)."""
    values = column.dropna()
    if values.empty:
        return None
    if pd.api.types.is_bool_dtype(values) or values.map(lambda v: isinstance(v, bool)).all():
        return column.map({True: 1.0, False: 0.0}).astype('float64')
    if pd.api.types.is_numeric_dtype(values):
        return column.astype('float64')
    return None


def long_values(events, data, dimensions):
    """One row per (event, metric): timestamp, event_type, source, the dimension columns, metric, value."""
    parts = []
    present = [d for d in dimensions if d in data.columns]
    for name in data.columns:
        if name in present:
            continue
        values = as_metric(data[name])
        if values is None:
            continue
        keep = values.notna()
        part = events.loc[keep, ['timestamp', 'event_type', 'source']].copy()
        for d in present:
            part[d] = data.loc[keep, d].where(data.loc[keep, d].map(lambda v: isinstance(v, str)))
        part['metric'] = name
        part['value'] = values[keep]
        parts.append(part)
    return pd.concat(parts, ignore_index=True), present


def series(long, by, dimension):
    """The statistics of the rows of `long` grouped by hour, type, metric and column `by` (None: the total)."""
    keys = ['timestamp', 'event_type', 'metric'] + ([by] if by else [])
    rows = long if by is None else long[long[by].notna()]
    grouped = rows.groupby(keys, sort=False)['value']
    stats = grouped.agg(['count', 'sum', 'min', 'max', 'mean', 'std'])
    quantiles = grouped.quantile(QUANTILES).unstack()
    quantiles.columns = ['p50', 'p95', 'p99']
    out = stats.join(quantiles).reset_index()
    out['dimension'] = dimension if by else 'all'
    out['dimension_value'] = out.pop(by) if by else '*'
    return out


def main():
    path, dimensions = sys.argv[1], [d for d in sys.argv[2].split(',') if d]
    prices, out_path = json.loads(sys.argv[3]), sys.argv[4]
    started = time.perf_counter()
    events, data = read(path)
    read_seconds = time.perf_counter() - started
    data = infer_costs(events, data, prices)
    long, present = long_values(events, data, dimensions)
    table = pd.concat(
        [series(long, None, None), series(long, 'source', 'source')]
        + [series(long, d, d) for d in present],
        ignore_index=True,
    )
    seconds = time.perf_counter() - started
    peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    table['timestamp'] = table['timestamp'].dt.strftime('%Y-%m-%dT%H:%M:%SZ')
    table.to_csv(out_path, index=False, float_format='%.17g')
    json.dump(
        {
            'events': int(len(events)),
            'values': int(len(long)),
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
