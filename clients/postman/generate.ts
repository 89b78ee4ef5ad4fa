/**
 * Makes the Postman collection (clients/postman/payments.postman_collection.json) and its local-stack
 * environment from docs/openapi.json: the reference folders are openapi-to-postmanv2's conversion (every
 * operation, with the document's examples); the walkthrough folder in front takes its requests from them
 * and chains them as a merchant's integration does (token → payment → capture → refund → settlement),
 * each with tests that check the answer and keep the ids the next request needs. `npm run openapi` writes
 * both files; test/unit/client.test.ts fails when they drift; test/e2e/postman-collection.test.ts runs the
 * walkthrough with newman against a local stack.
 */
import { readFileSync } from 'node:fs';
import Converter from 'openapi-to-postmanv2';

export const COLLECTION_PATH = new URL('./payments.postman_collection.json', import.meta.url);
export const ENVIRONMENT_PATH = new URL('./local.postman_environment.json', import.meta.url);
export const WALKTHROUGH = 'Walkthrough: a card and a Thai QR payment, end to end';
const DOCUMENT_PATH = new URL('../../docs/openapi.json', import.meta.url);

// biome-ignore lint/suspicious/noExplicitAny: the collection's JSON (Postman's v2.1 format) as converted
type Item = any;

async function convert(document: string): Promise<Item> {
  return new Promise((resolve, reject) => {
    Converter.convert(
      { type: 'string', data: document },
      {
        folderStrategy: 'Tags',
        requestParametersResolution: 'Example',
        exampleParametersResolution: 'Example',
      },
      (error: Error | null, result: { result: boolean; reason?: string; output: { data: Item }[] }) => {
        if (error || !result.result) reject(error ?? new Error(result.reason));
        else resolve(result.output[0]?.data);
      },
    );
  });
}

/** Postman's generated ids are random: the committed file must be the same on every run. */
function withoutIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutIds);
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node)
        .filter(([key]) => key !== 'id' && key !== '_postman_id')
        .map(([key, value]) => [key, withoutIds(value)]),
    );
  }
  return node;
}

const script = (lines: string[]) => ({ listen: 'test', script: { type: 'text/javascript', exec: lines } });

/** A test that the status is one of `codes`, and `keep` variables set from the JSON answer. */
function checks(codes: number[], keep: Record<string, string> = {}, more: string[] = []): Item {
  return script([
    `pm.test('answers ${codes.join(' or ')}', () => pm.expect(pm.response.code).to.be.oneOf(${JSON.stringify(codes)}));`,
    ...(Object.keys(keep).length > 0 || more.some((line) => line.includes('body.'))
      ? ['const body = pm.response.json();']
      : []),
    ...Object.entries(keep).map(([name, path]) => `pm.collectionVariables.set('${name}', body.${path});`),
    ...more,
  ]);
}

/** Polls the same request (up to 40 times, 250 ms apart) until `condition` holds on the JSON answer. */
function until(condition: string, what: string): Item {
  return script([
    "pm.test('answers 200', () => pm.response.to.have.status(200));",
    'const body = pm.response.json();',
    "const tries = Number(pm.collectionVariables.get('tries') || 0);",
    `if (!(${condition}) && tries < 40) {`,
    "  pm.collectionVariables.set('tries', tries + 1);",
    '  setTimeout(() => {}, 250);',
    '  postman.setNextRequest(pm.info.requestName);',
    '} else {',
    "  pm.collectionVariables.set('tries', 0);",
    `  pm.test('${what}', () => pm.expect(${condition}, JSON.stringify(body).slice(0, 300)).to.be.true);`,
    '}',
  ]);
}

export async function generateCollection(): Promise<{ collection: Item; environment: Item }> {
  const document = readFileSync(DOCUMENT_PATH, 'utf8');
  const converted = withoutIds(await convert(document)) as Item;
  const operations = new Map<string, Item>();
  for (const folder of converted.item) {
    for (const item of folder.item ?? [folder]) {
      // Its saved responses are faked from the schemas (random, and far from what the API says): the
      // document's own examples stay in each request's description and body.
      item.response = [];
      operations.set(`${item.request.method} /${item.request.url.path.join('/')}`, item);
    }
  }
  // The reference requests start from the ids the walkthrough kept, never reuse an Idempotency-Key, and
  // send a query parameter only with the document's example (the converter invents the others).
  const parsed = JSON.parse(document) as {
    paths: Record<string, Record<string, { parameters?: { in: string; name: string; example?: unknown }[] }>>;
  };
  // Path parameters other than the payment's id come from collection variables of the same name.
  const pathVariables = new Set<string>();
  for (const [route, item] of operations) {
    for (const variable of item.request.url.variable ?? []) {
      if (variable.key !== 'id') {
        pathVariables.add(variable.key);
        variable.value = `{{${variable.key}}}`;
      }
    }
    const [method = '', path = ''] = route.split(' ');
    const documented =
      parsed.paths[path.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()]?.parameters ?? [];
    for (const query of item.request.url.query ?? []) {
      const example = documented.find((p) => p.in === 'query' && p.name === query.key)?.example;
      query.value = example === undefined ? '' : String(example);
      query.disabled = example === undefined;
    }
    for (const variable of item.request.url.variable ?? []) {
      if (variable.key === 'id') variable.value = '{{payment_id}}';
    }
    for (const header of item.request.header ?? []) {
      if (header.key === 'Idempotency-Key') header.value = '{{$guid}}';
    }
  }
  /** A copy of the converted request for `route`, renamed, with its path id, body and tests replaced. */
  const step = (name: string, route: string, options: { id?: string; body?: unknown; test: Item }): Item => {
    const source = operations.get(route);
    if (!source) throw new Error(`docs/openapi.json has no ${route}`);
    const request = structuredClone(source.request);
    request.name = name;
    request.header = (request.header ?? []).map((header: Item) =>
      header.key === 'Idempotency-Key' ? { ...header, value: '{{$guid}}' } : header,
    );
    for (const variable of request.url.variable ?? []) {
      if (variable.key === 'id') variable.value = options.id ?? '{{payment_id}}';
    }
    if (options.body !== undefined) request.body.raw = JSON.stringify(options.body, null, 2);
    return { name, request, response: [], event: [options.test] };
  };
  const order = {
    id: 'order-postman-{{$timestamp}}',
    lines: [
      { sku: 'SKU-TSHIRT', quantity: 2, unit_amount: 35000 },
      { sku: 'SKU-STICKER', quantity: 1, unit_amount: 2500 },
    ],
  };
  const tokenize = {
    name: 'Tokenize a test card (KBank simulator: what KBank’s card form does in the browser)',
    request: {
      method: 'POST',
      url: {
        raw: '{{kbankUrl}}/card/v2/tokens',
        host: ['{{kbankUrl}}'],
        path: ['card', 'v2', 'tokens'],
      },
      auth: { type: 'noauth' },
      header: [
        { key: 'x-api-key', value: '{{kbankPublicKey}}' },
        { key: 'Content-Type', value: 'application/json' },
      ],
      body: {
        mode: 'raw',
        raw: JSON.stringify(
          {
            card: {
              number: '4111111111111111',
              expiration_month: 12,
              expiration_year: 2030,
              security_code: '123',
              name: 'SOMCHAI JAIDEE',
            },
          },
          null,
          2,
        ),
        options: { raw: { language: 'json' } },
      },
    },
    response: [],
    event: [checks([200, 201], { card_token: 'id' })],
  };
  const walkthrough = {
    name: WALKTHROUGH,
    description:
      'Run this folder first (Collection Runner, or `newman run … --folder "Walkthrough…"`): each request keeps the ids the next one needs. The folders after it are the reference: every operation with the document’s examples.',
    item: [
      step('Health', 'GET /v1/health', { test: checks([200]) }),
      tokenize,
      step('Create a card payment, captured later', 'POST /v1/payments', {
        body: {
          amount: 72500,
          currency: 'THB',
          order,
          customer: { id: 'cus-42', email: 'somchai@example.com' },
          payment_method: { type: 'card', token: '{{card_token}}' },
          capture: 'manual',
        },
        test: checks([201], { payment_id: 'id' }),
      }),
      step('Wait until it is authorized (requires_capture)', 'GET /v1/payments/:id', {
        test: until("body.status === 'requires_capture'", 'is requires_capture'),
      }),
      step('Change the amount: one line less', 'PATCH /v1/payments/:id', {
        body: { amount: 70000, currency: 'THB', order: { ...order, lines: [order.lines[0]] } },
        test: checks([200], {}, [
          "pm.test('the amount is 70000', () => pm.expect(body.amount).to.equal(70000));",
        ]),
      }),
      step('Capture it', 'POST /v1/payments/:id/capture', { body: {}, test: checks([202]) }),
      step('Wait until it is captured (succeeded)', 'GET /v1/payments/:id', {
        test: until(
          "body.status === 'succeeded' && body.amount_captured === 70000",
          'is succeeded, 70000 captured',
        ),
      }),
      step('Read its audit trail', 'GET /v1/payments/:id/events', {
        test: checks([200], {}, [
          'const types = pm.response.json().data.map((entry) => entry.type);',
          "pm.test('created, then captured', () => pm.expect(types).to.include.members(['payment.created', 'payment.captured']));",
        ]),
      }),
      step('Refund 350.00 THB of it', 'POST /v1/payments/:id/refunds', {
        body: { amount: 35000, reason: 'customer returned one T-shirt' },
        test: checks([202], { refund_id: 'id' }),
      }),
      step('Wait until the refund succeeded', 'GET /v1/payments/:id/refunds', {
        test: until(
          "body.data.some((r) => r.id === pm.collectionVariables.get('refund_id') && r.status === 'succeeded')",
          'the refund succeeded',
        ),
      }),
      step('Find it among the merchant’s payments', 'GET /v1/payments', {
        test: checks([200], {}, [
          "pm.test('lists it', () => pm.expect(pm.response.json().data.map((p) => p.id)).to.include(pm.collectionVariables.get('payment_id')));",
        ]),
      }),
      step('Create a Thai QR payment', 'POST /v1/payments', {
        body: {
          amount: 72500,
          currency: 'THB',
          order,
          customer: { id: 'cus-42' },
          payment_method: { type: 'qr_promptpay' },
        },
        test: checks([201], { qr_payment_id: 'id' }),
      }),
      step('Wait until the customer can pay (requires_action)', 'GET /v1/payments/:id', {
        id: '{{qr_payment_id}}',
        test: until("body.status === 'requires_action'", 'is requires_action'),
      }),
      step('The QR to show the customer', 'GET /v1/payments/:id/qr', {
        id: '{{qr_payment_id}}',
        test: checks([200], {}, [
          "pm.test('a PNG', () => pm.expect(pm.response.json().png).to.match(/^data:image\\/png;base64,/));",
        ]),
      }),
      step('The customer walked away: cancel it', 'POST /v1/payments/:id/cancel', {
        id: '{{qr_payment_id}}',
        test: checks([202]),
      }),
      step('Wait until it is canceled', 'GET /v1/payments/:id', {
        id: '{{qr_payment_id}}',
        test: until("body.status === 'canceled'", 'is canceled'),
      }),
      step('Today’s settlement', 'GET /v1/settlements', {
        test: checks([200], {}, [
          'const day = pm.response.json().data[0];',
          "pm.test('has an open day', () => pm.expect(day && day.id).to.be.a('string'));",
          "if (day) pm.collectionVariables.set('settlement_id', day.id);",
        ]),
      }),
      step('Its lines', 'GET /v1/settlements/:id/lines', {
        id: '{{settlement_id}}',
        test: checks([200], {}, [
          "pm.test('has lines', () => pm.expect(pm.response.json().data.length).to.be.above(0));",
        ]),
      }),
      step('A payment that does not exist is a problem, not a guess', 'GET /v1/payments/:id', {
        id: 'pay_01JD3Q4V7M0000000000000000',
        test: checks([404], {}, [
          "pm.test('problem+json', () => pm.expect(pm.response.headers.get('Content-Type')).to.include('application/problem+json'));",
          "pm.test('resource_not_found', () => pm.expect(pm.response.json().code).to.equal('resource_not_found'));",
        ]),
      }),
    ],
  };
  const collection = {
    ...converted,
    info: { ...converted.info, name: 'KBank Payments API' },
    item: [walkthrough, ...converted.item],
    variable: [
      ...converted.variable,
      ...['card_token', 'payment_id', 'refund_id', 'qr_payment_id', 'settlement_id', 'tries']
        .concat([...pathVariables].sort())
        .map((key) => ({ key, value: key === 'customer_id' ? 'cus-42' : '', type: 'string' })),
    ],
  };
  const environment = {
    name: 'KBank Payments — local stack',
    values: [
      { key: 'baseUrl', value: 'http://127.0.0.1:3000', enabled: true },
      { key: 'kbankUrl', value: 'http://127.0.0.1:3001', enabled: true },
      { key: 'kbankPublicKey', value: 'pkey_test_local', enabled: true },
      // The demo merchant's key is in .local/stack.json (apiKey); never commit a real one.
      { key: 'bearerToken', value: '', type: 'secret', enabled: true },
    ],
    _postman_variable_scope: 'environment',
  };
  return { collection, environment };
}

/** The files as committed: two-space JSON and a final newline. */
export const asFile = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
