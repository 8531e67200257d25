// What bench/reports.ts hands its child process (env BENCH_REPORTS) and reads back from its stdout.
import type { ReportFormat, ReportType } from '../shared/reports/types.ts';

export interface ReportChildConfig {
  databaseUrl: string;
  reportType: ReportType;
  /** The period in the API's form, e.g. "2026-11". */
  period: string;
  /** The clock of the build (after the period and its aggregation). */
  now: string;
  repeats: number;
}

export interface ReportChildResult {
  reportType: ReportType;
  period: string;
  /** Fastest time to build the document from the views (shared by every format). */
  buildMs: number;
  buildSamples: number[];
  /** Fastest render time and size per format. */
  formats: Partial<Record<ReportFormat, { ms: number; samples: number[]; bytes: number }>>;
  maxRssKiB: number;
}
