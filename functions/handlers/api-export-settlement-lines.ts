/** GET /v1/settlements/{id}/lines.csv — every line of a settlement as CSV (RFC 4180), for a spreadsheet. */
import * as z from 'zod/mini';
import { awsSettlementsReadDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import {
  exportSettlementLines,
  type ReadSettlementsDeps,
} from '../core/use-cases/settlements/read-settlements.js';
import { settlementRoute } from './settlement-api.js';

export const createExportSettlementLinesHandler = (deps: () => ReadSettlementsDeps) =>
  settlementRoute(deps, z.strictObject({}), async (read, { merchantId, settlementId }) => {
    const { settlement, csv } = await exportSettlementLines(read, { merchantId, settlementId });
    return {
      statusCode: 200,
      headers: {
        'Content-Type': 'text/csv; charset=utf-8; header=present',
        'Content-Disposition': `attachment; filename="${settlement.id}.csv"`,
      },
      body: csv,
    };
  });

export const createHandler = (deps: Pick<Dependencies, 'settlementsRead'>) =>
  createExportSettlementLinesHandler(deps.settlementsRead);

export const handler = createHandler({ settlementsRead: awsSettlementsReadDeps });
