// A benchmark worker thread: forecasts the series it is sent with the same forecastSeries the
// analyze-capacity function runs, and posts back points and 95 % intervals.
import { parentPort } from 'node:worker_threads';
import { forecastSeries } from '../../shared/capacity/forecast.ts';

export interface WorkerJob {
  index: number;
  train: number[];
  horizon: number;
  windows: number;
  training: number | undefined;
}

export interface WorkerAnswer {
  index: number;
  point: number[];
  lo95: number[];
  hi95: number[];
  lo80: number[];
  hi80: number[];
  model: string;
  coverage95: number | undefined;
}

parentPort?.on('message', (job: WorkerJob) => {
  const f = forecastSeries(job.train, {
    horizon: job.horizon,
    windows: job.windows,
    ...(job.training ? { backtestTraining: job.training } : {}),
  });
  const answer: WorkerAnswer = {
    index: job.index,
    point: f.point,
    lo95: f.lo95,
    hi95: f.hi95,
    lo80: f.lo80,
    hi80: f.hi80,
    model: f.model,
    coverage95: f.backtest?.coverage95,
  };
  parentPort?.postMessage(answer);
});
