/** The usage-plan adapter against a mocked API Gateway client (the one place an SDK mock belongs). */
import {
  APIGatewayClient,
  ConflictException,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteUsagePlanKeyCommand,
  GetApiKeysCommand,
  GetUsagePlansCommand,
  NotFoundException,
} from '@aws-sdk/client-api-gateway';
import { mockClient } from 'aws-sdk-client-mock';
import { ApiGatewayUsagePlans } from '../../functions/adapters/api-gateway-usage-plans.js';

const gateway = mockClient(APIGatewayClient);
const adapter = () =>
  new ApiGatewayUsagePlans(new APIGatewayClient({ region: 'ap-southeast-1' }), 'payments-prod');
const PLANS = {
  items: [
    { id: 'up-starter', name: 'payments-prod-starter' },
    { id: 'up-standard', name: 'payments-prod-standard' },
    { id: 'up-enterprise', name: 'payments-prod-enterprise' },
    { id: 'up-other', name: 'payments-dev-standard' },
  ],
};
const notFound = () => new NotFoundException({ message: 'not found', $metadata: {} });

beforeEach(() => gateway.reset());

it('makes the merchant’s usage key once and puts it in its plan’s usage plan only', async () => {
  gateway.on(GetUsagePlansCommand).resolves(PLANS);
  gateway.on(GetApiKeysCommand).resolves({ items: [] });
  gateway.on(CreateApiKeyCommand).resolves({ id: 'key-1' });
  gateway.on(DeleteUsagePlanKeyCommand).rejects(notFound());
  gateway.on(CreateUsagePlanKeyCommand).resolves({});

  await adapter().assign('merchant_baan_suan', 'starter');

  expect(gateway.commandCalls(CreateApiKeyCommand)[0]?.args[0].input).toMatchObject({
    name: 'plan-usage-merchant_baan_suan',
    value: 'plan-usage-merchant_baan_suan',
    enabled: true,
  });
  // Out of this stage's other plans (never another stage's), then into its own.
  expect(
    gateway
      .commandCalls(DeleteUsagePlanKeyCommand)
      .map((c) => c.args[0].input.usagePlanId)
      .sort(),
  ).toEqual(['up-enterprise', 'up-standard']);
  expect(gateway.commandCalls(CreateUsagePlanKeyCommand)[0]?.args[0].input).toEqual({
    usagePlanId: 'up-starter',
    keyId: 'key-1',
    keyType: 'API_KEY',
  });
});

it('moves an existing key, and tolerates a move already done', async () => {
  gateway.on(GetUsagePlansCommand).resolves(PLANS);
  gateway.on(GetApiKeysCommand).resolves({ items: [{ id: 'key-7', name: 'plan-usage-merchant_x1' }] });
  gateway.on(DeleteUsagePlanKeyCommand).resolves({});
  gateway.on(CreateUsagePlanKeyCommand).rejects(new ConflictException({ message: 'exists', $metadata: {} }));

  await adapter().assign('merchant_x1', 'enterprise');

  expect(gateway.commandCalls(CreateApiKeyCommand)).toHaveLength(0);
  expect(gateway.commandCalls(CreateUsagePlanKeyCommand)[0]?.args[0].input).toMatchObject({
    usagePlanId: 'up-enterprise',
    keyId: 'key-7',
  });
});

it('refuses clearly when the stack with the usage plans is not deployed, changing nothing', async () => {
  gateway.on(GetUsagePlansCommand).resolves({ items: [] });
  await expect(adapter().assign('merchant_x1', 'standard')).rejects.toThrow(
    /no usage plan payments-prod-standard/,
  );
  expect(gateway.commandCalls(CreateApiKeyCommand)).toHaveLength(0);
  expect(gateway.commandCalls(CreateUsagePlanKeyCommand)).toHaveLength(0);
});
