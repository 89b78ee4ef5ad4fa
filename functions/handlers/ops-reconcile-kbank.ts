/**
 * The daily KBank reconciliation (EventBridge Scheduler, 03:00 Asia/Bangkok, for the day before; or
 * invoked with `{"date": "YYYY-MM-DD"}` to re-run a day). Each exception is logged as
 * `reconciliation exception` at error level: the alarm's metric filter counts those lines.
 */
import middy from '@middy/core';
import * as z from 'zod';
import { awsReconcileDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { bangkokDay } from '../core/reconciliation.js';
import type { ReconciliationRun } from '../core/repository.js';
import { type ReconcileDeps, reconcileKbank } from '../core/use-cases/operations/reconcile-kbank.js';
import { logger, withLogContext } from './logger.js';

const InputSchema = z
  .object({
    date: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/)
      .optional(),
  })
  .passthrough()
  .nullish();

/** The Bangkok business day before the one `now` is in: the day KBank's list is complete for. */
export function yesterdayInBangkok(now: Date): string {
  return bangkokDay(new Date(now.getTime() - 24 * 3600_000).toISOString());
}

export function createReconcileHandler(deps: () => ReconcileDeps) {
  return middy<unknown, ReconciliationRun>(async (event: unknown): Promise<ReconciliationRun> => {
    const base = deps();
    const date = InputSchema.parse(event)?.date ?? yesterdayInBangkok(base.clock.now());
    const run = await reconcileKbank(base, date);
    for (const exception of run.exceptions) logger.error('reconciliation exception', { date, exception });
    logger.info('reconciliation run', { date, runId: run.id, counts: run.counts });
    return run;
  }).use(withLogContext());
}

export const createHandler = (deps: Pick<Dependencies, 'reconcile'>) =>
  createReconcileHandler(deps.reconcile);

export const handler = createHandler({ reconcile: awsReconcileDeps });
