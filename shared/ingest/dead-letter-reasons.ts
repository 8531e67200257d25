// Every reason code a dead letter can carry: the event rejections (EVENT_*), a conflicting duplicate and
// text PostgreSQL cannot store. The status function exports hxp_dead_letters for each of them, 0 when none
// waits, so that a reason going from none to some is a rise Prometheus can see: a series that does not
// exist an hour before compares with nothing (DeadLettersGrowing, deploy/prometheus).
import type { ErrorCode } from '../errors/index.ts';
import { REJECTION_CODES } from '../events/index.ts';
import { CONFLICT_CODE } from './conflicts.ts';
import { UNSTORABLE_CODE } from './prepare-rows.ts';

export const DEAD_LETTER_REASONS: readonly ErrorCode[] = Object.freeze([
  ...REJECTION_CODES,
  CONFLICT_CODE,
  UNSTORABLE_CODE,
]);
