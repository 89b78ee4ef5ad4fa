/** GET /v1/settlements/{id}/lines — a settlement's lines, oldest first, cursor-paginated. */
import { ListSettlementLinesQuerySchema } from '../../schemas/settlements.js';
import { awsSettlementsReadDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import {
  listSettlementLines,
  type ReadSettlementsDeps,
} from '../core/use-cases/settlements/read-settlements.js';
import { json } from './http.js';
import { settlementRoute } from './settlement-api.js';

export const createListSettlementLinesHandler = (deps: () => ReadSettlementsDeps) =>
  settlementRoute(deps, ListSettlementLinesQuerySchema, async (read, { merchantId, settlementId, query }) =>
    json(200, await listSettlementLines(read, { merchantId, settlementId, ...query })),
  );

export const createHandler = (deps: Pick<Dependencies, 'settlementsRead'>) =>
  createListSettlementLinesHandler(deps.settlementsRead);

export const handler = createHandler({ settlementsRead: awsSettlementsReadDeps });
