/**
 * The local stack's IAM: each function gets only the edges its catalog entry grants. Using any other fails
 * on the call, as AccessDenied would on AWS, so a grant missing from functions/catalog.ts shows up in the
 * local suites instead of after a deploy. (Read versus read/write on the table is left to IAM.)
 */
import type { Edges } from '../functions/adapters/dependencies.js';
import type { Access, FunctionName } from '../functions/catalog.js';

type GuardedEdge = Exclude<keyof Edges, 'clock' | 'ids' | 'settings'>;

/** Which grant of the catalog lets a function use each edge (the same mapping lib/stateless/functions.ts turns into IAM). */
const GRANTED_BY: Record<GuardedEdge, (access: Access) => boolean> = {
  table: (access) => access.table !== undefined || access.queriesIndex !== undefined,
  kbank: (access) => access.kbank === true,
  kbankSecret: (access) => access.kbank === true,
  cost: (access) => access.cost === true,
  paymentRuns: (access) => access.startsSaga === true || access.sweeps === true,
  refundRuns: (access) => access.startsRefundSaga === true || access.sweeps === true,
  tasks: (access) => access.resumesSaga === true,
  notifications: (access) => access.sendsNotifications === true,
  events: (access) => access.publishesEvents === true,
  settlements: (access) => access.table !== undefined,
  points: (access) => access.table !== undefined,
  webhooks: (access) => access.table !== undefined,
  webhookSecrets: (access) => access.webhookSecrets !== undefined,
  webhookQueue: (access) => access.queuesWebhooks === true,
  webhookSender: (access) => access.deliversWebhooks === true,
};

export class AccessDeniedError extends Error {
  constructor(name: FunctionName, edge: GuardedEdge) {
    super(`${name} may not use ${edge}: its entry in functions/catalog.ts does not grant it`);
    this.name = 'AccessDeniedError';
  }
}

/** A port whose every method rejects: building a bundle that holds it is fine, calling it is not. */
function deniedPort(name: FunctionName, edge: GuardedEdge): object {
  return new Proxy(
    {},
    {
      get: (_target, property) =>
        // Not a thenable, and nothing for inspection: only method calls are refused.
        typeof property === 'symbol' || property === 'then'
          ? undefined
          : () => Promise.reject(new AccessDeniedError(name, edge)),
    },
  );
}

/** The edges one function may use; the others are refused when called. */
export function grantedEdges(edges: Edges, name: FunctionName, access: Access): Edges {
  const granted = { ...edges };
  for (const edge of Object.keys(GRANTED_BY) as GuardedEdge[]) {
    if (GRANTED_BY[edge](access)) continue;
    const refused =
      edge === 'kbankSecret'
        ? () => Promise.reject(new AccessDeniedError(name, edge))
        : () => deniedPort(name, edge);
    (granted as Record<GuardedEdge, unknown>)[edge] = refused;
  }
  // Reading the signing secrets is not writing them (secretsmanager:GetSecretValue only, on AWS).
  if (access.webhookSecrets === 'read') {
    const secrets = edges.webhookSecrets;
    granted.webhookSecrets = () => {
      const store = secrets();
      return {
        get: (endpointId) => store.get(endpointId),
        put: () => Promise.reject(new AccessDeniedError(name, 'webhookSecrets')),
        delete: () => Promise.reject(new AccessDeniedError(name, 'webhookSecrets')),
      };
    };
  }
  return granted;
}
