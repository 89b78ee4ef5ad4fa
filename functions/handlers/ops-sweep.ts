/**
 * The reconciliation sweep, on a schedule (EventBridge Scheduler on AWS, a timer on the local stack): one
 * pass over the open payments and refunds past their deadline. Every item given up to an operator is logged
 * as `reconciliation unresolved` at error level: the alarm's metric filter counts those lines.
 */
import middy from '@middy/core';
import { awsSweepDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { type SweepDeps, type SweepReport, sweep } from '../core/use-cases/operations/sweep.js';
import { logger, withLogContext } from './logger.js';

/** Items per pass: a pass stays well inside the function's timeout; the next pass takes the rest. */
export const SWEEP_BATCH = 100;

export function createSweepHandler(deps: () => SweepDeps) {
  return middy<unknown, SweepReport>(async (): Promise<SweepReport> => {
    const base = deps();
    const report = await sweep(
      {
        ...base,
        onUnresolved: (item, reason) => {
          logger.error('reconciliation unresolved', { item, reason });
          base.onUnresolved?.(item, reason);
        },
      },
      { limit: SWEEP_BATCH },
    );
    if (report.examined > 0) logger.info('reconciliation sweep', { report });
    return report;
  }).use(withLogContext());
}

export const createHandler = (deps: Pick<Dependencies, 'sweep'>) => createSweepHandler(deps.sweep);

export const handler = createHandler({ sweep: awsSweepDeps });
