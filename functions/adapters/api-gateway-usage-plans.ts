/**
 * Merchant plans in API Gateway: each plan is a usage plan named `<prefix>-<plan>` (lib/stateless/api.ts),
 * and each merchant has one API Gateway API key whose value is its usage key (functions/core/plans.ts),
 * in exactly one of those usage plans. The authorizer returns that value, so API Gateway throttles and
 * counts the merchant by its plan. The key is not a credential: clients never send it.
 */
import {
  type APIGatewayClient,
  ConflictException,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteUsagePlanKeyCommand,
  GetApiKeysCommand,
  GetUsagePlansCommand,
  NotFoundException,
  type UsagePlan,
} from '@aws-sdk/client-api-gateway';
import { type PlanName, usageKeyOf } from '../core/plans.js';
import type { UsagePlans } from '../core/ports.js';

export class ApiGatewayUsagePlans implements UsagePlans {
  /** `prefix`: the usage plans' common name, `payments-<stage>`. */
  constructor(
    private readonly client: APIGatewayClient,
    private readonly prefix: string,
  ) {}

  async assign(merchantId: string, plan: PlanName): Promise<void> {
    const plans = await this.usagePlans();
    const target = plans.find((p) => p.name === `${this.prefix}-${plan}`);
    if (!target?.id)
      throw new Error(`API Gateway has no usage plan ${this.prefix}-${plan}: deploy the stack first`);
    const keyId = await this.keyOf(merchantId);
    // A key may be in one usage plan per API stage: out of the others first (the merchant is refused with
    // 403 for the moment in between), then into its own. Both steps tolerate having been done already.
    for (const other of plans) {
      if (other === target || !other.id) continue;
      try {
        await this.client.send(new DeleteUsagePlanKeyCommand({ usagePlanId: other.id, keyId }));
      } catch (error) {
        if (!(error instanceof NotFoundException)) throw error;
      }
    }
    try {
      await this.client.send(
        new CreateUsagePlanKeyCommand({ usagePlanId: target.id, keyId, keyType: 'API_KEY' }),
      );
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
    }
  }

  /** Our usage plans (every page). */
  private async usagePlans(): Promise<UsagePlan[]> {
    const plans: UsagePlan[] = [];
    let position: string | undefined;
    do {
      const page = await this.client.send(new GetUsagePlansCommand({ position, limit: 500 }));
      plans.push(...(page.items ?? []).filter((p) => p.name?.startsWith(`${this.prefix}-`)));
      position = page.position;
    } while (position);
    return plans;
  }

  /** The merchant's API key's id, made the first time (named and valued by its usage key). */
  private async keyOf(merchantId: string): Promise<string> {
    const name = usageKeyOf(merchantId);
    const found = await this.client.send(new GetApiKeysCommand({ nameQuery: name, includeValues: false }));
    const existing = found.items?.find((key) => key.name === name)?.id;
    if (existing) return existing;
    const made = await this.client.send(
      new CreateApiKeyCommand({
        name,
        value: name,
        enabled: true,
        description: `Usage key of ${merchantId}: its plan's limits (not a credential)`,
      }),
    );
    if (!made.id) throw new Error(`API Gateway made no id for the usage key of ${merchantId}`);
    return made.id;
  }
}
