/** GET /v1/settlements/{id} — one settlement of the merchant, with its totals. */
import * as z from 'zod/mini';
import { awsSettlementsReadDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { getSettlement, type ReadSettlementsDeps } from '../core/use-cases/settlements/read-settlements.js';
import { json } from './http.js';
import { settlementRoute } from './settlement-api.js';

export const createGetSettlementHandler = (deps: () => ReadSettlementsDeps) =>
  settlementRoute(deps, z.strictObject({}), async (read, { merchantId, settlementId }) =>
    json(200, await getSettlement(read, { merchantId, settlementId })),
  );

export const createHandler = (deps: Pick<Dependencies, 'settlementsRead'>) =>
  createGetSettlementHandler(deps.settlementsRead);

export const handler = createHandler({ settlementsRead: awsSettlementsReadDeps });
