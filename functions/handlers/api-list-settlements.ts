/** GET /v1/settlements — the merchant's settlements, newest day first, by status and day range. */
import { ListSettlementsQuerySchema } from '../../schemas/settlements.js';
import { awsSettlementsReadDeps } from '../adapters/container.js';
import type { Dependencies } from '../adapters/dependencies.js';
import { listSettlements, type ReadSettlementsDeps } from '../core/use-cases/settlements/read-settlements.js';
import { json } from './http.js';
import { settlementRoute } from './settlement-api.js';

export const createListSettlementsHandler = (deps: () => ReadSettlementsDeps) =>
  settlementRoute(deps, ListSettlementsQuerySchema, async (read, { merchantId, query }) =>
    json(200, await listSettlements(read, { merchantId, ...query })),
  );

export const createHandler = (deps: Pick<Dependencies, 'settlementsRead'>) =>
  createListSettlementsHandler(deps.settlementsRead);

export const handler = createHandler({ settlementsRead: awsSettlementsReadDeps });
