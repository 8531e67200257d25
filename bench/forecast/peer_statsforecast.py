# The peer of `npm run bench -- --forecast --peer`: statsforecast's MSTL (periods 24 and 168, AutoETS trend)
# on the same M4 Hourly series, all cores (n_jobs=-1). Prints one JSON document: the wall seconds spent in
# forecast(), the CPU seconds of this process and its worker processes over that call, and per series the
# point forecast and its 95 % interval.
# usage: python peer_statsforecast.py <m4-hourly dir> <horizon> [<series count>]
import json
import os
import resource
import sys
import time

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import MSTL, AutoETS


def read(path):
    rows = []
    with open(path) as f:
        next(f)
        for line in f:
            cells = [c.strip().strip('"') for c in line.strip().split(',')]
            rows.append((cells[0], np.array([float(c) for c in cells[1:] if c != ''])))
    return rows


def main():
    data_dir, horizon = sys.argv[1], int(sys.argv[2])
    train = read(os.path.join(data_dir, 'Hourly-train.csv'))
    if len(sys.argv) > 3:
        train = train[: int(sys.argv[3])]
    frame = pd.concat(
        pd.DataFrame({'unique_id': uid, 'ds': np.arange(len(y)), 'y': y}) for uid, y in train
    )
    model = MSTL(season_length=[24, 168], trend_forecaster=AutoETS(model='ZZN'))
    def cpu():
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    started, cpu_started = time.perf_counter(), cpu()
    forecast = StatsForecast(models=[model], freq=1, n_jobs=-1).forecast(df=frame, h=horizon, level=[95])
    seconds, cpu_seconds = time.perf_counter() - started, cpu() - cpu_started
    if 'unique_id' not in forecast.columns:
        forecast = forecast.reset_index()
    series = {}
    for uid, group in forecast.groupby('unique_id', sort=False):
        group = group.sort_values('ds')
        series[str(uid)] = {
            'point': group['MSTL'].tolist(),
            'lo95': group['MSTL-lo-95'].tolist(),
            'hi95': group['MSTL-hi-95'].tolist(),
        }
    json.dump({'seconds': seconds, 'cpu_seconds': cpu_seconds, 'series': series}, sys.stdout)


main()
