-- 000008: capacity analyses (shared/capacity, the analyze-capacity function). One row per run, resource and
-- series ('fleet' or a host/source), written in one transaction per run, so the newest run_id is a whole
-- analysis; the document column holds the API's analysis object (shared/capacity/types.ts) without its forecast
-- points, which are rows of capacity_forecast_points. The columns beside it are what SQL readers (dashboards,
-- the status function's gauges, reports) filter and sort on.
CREATE TABLE capacity_analyses (
  run_id             bigint           NOT NULL,  -- runs.id of the analyze-capacity run
  resource           text             NOT NULL,
  series             text             NOT NULL,
  generated_at       timestamptz      NOT NULL,
  data_end           timestamptz      NOT NULL,  -- end of the hourly history analysed (exclusive)
  forecasting        boolean          NOT NULL,
  status             text             NOT NULL CHECK (status IN ('ok', 'insufficient_history', 'stale')),
  unit               text             NOT NULL,
  threshold          double precision,           -- NULL: no limit configured
  "limit"            double precision,
  utilization_ratio  double precision,           -- p95 / limit
  days_to_threshold  double precision,           -- point forecast; NULL: no crossing within the horizon
  crossing_at        timestamptz,
  alert              boolean          NOT NULL,
  model              text,                       -- mstl | seasonal_naive; NULL: not forecast
  document           jsonb            NOT NULL,
  PRIMARY KEY (run_id, resource, series)
);
CREATE INDEX capacity_analyses_generated_idx ON capacity_analyses (generated_at DESC);

-- The hourly forecast of each analysed series: point and calibrated 80 % / 95 % bounds. Kept while the run is
-- younger than the forecast horizon (the newest run's always), so a forecast can be held against what happened.
CREATE TABLE capacity_forecast_points (
  run_id    bigint           NOT NULL,
  resource  text             NOT NULL,
  series    text             NOT NULL,
  ts        timestamptz      NOT NULL,
  value     double precision NOT NULL,
  lo80      double precision NOT NULL,
  hi80      double precision NOT NULL,
  lo95      double precision NOT NULL,
  hi95      double precision NOT NULL,
  PRIMARY KEY (run_id, resource, series, ts),
  FOREIGN KEY (run_id, resource, series) REFERENCES capacity_analyses ON DELETE CASCADE
);
