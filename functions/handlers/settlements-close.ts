/**
 * The settlement close, on a schedule (EventBridge Scheduler on AWS, a timer on the local stack): every open
 * settlement whose Bangkok day has ended is closed and `settlement.closed` published (use case
 * close-settlements).
 */
import middy from '@middy/core';
import { awsSettlementsCloseDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import {
  type CloseReport,
  type CloseSettlementsDeps,
  closeSettlements,
} from '../core/use-cases/settlements/close-settlements.js';
import { logger, withLogContext } from './logger.js';

export function createCloseHandler(deps: () => CloseSettlementsDeps) {
  return middy<unknown, CloseReport>(async (): Promise<CloseReport> => {
    const report = await closeSettlements(deps());
    if (report.published.length > 0) logger.info('settlements closed', { report });
    return report;
  }).use(withLogContext());
}

export const createHandler = (deps: Pick<Dependencies, 'settlementsClose'>) =>
  createCloseHandler(deps.settlementsClose);

export const handler = createHandler({ settlementsClose: awsSettlementsCloseDeps });
