/**
 * Every problem `type` resolves: the local stack serves the page of each code of the catalog at
 * `/problems/<code>`, and the `type` of a problem it answers leads to the page of that problem's code.
 */
import { ERROR_CODES, STATUS_TITLES } from '../../functions/core/errors.js';
import type { LocalStack } from '../../local/stack.js';
import { api, startTestStack } from '../support/stack.js';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

describe('problem type pages on the local stack', () => {
  it('serve a page for every code of the catalog: its title, status, meaning, what to do and an example', async () => {
    for (const [code, { status }] of Object.entries(ERROR_CODES)) {
      const response = await fetch(`${stack.apiUrl}/problems/${code}`);
      const html = await response.text();
      expect([code, response.status, response.headers.get('content-type')]).toEqual([
        code,
        200,
        'text/html; charset=utf-8',
      ]);
      expect(html).toContain(`<title>${code} · ${status} ${STATUS_TITLES[status]}</title>`);
      for (const section of ['What it means', 'What to do', 'Example'])
        expect(html).toContain(`<h2>${section}</h2>`);
      expect(html).toContain(`&quot;type&quot;: &quot;/problems/${code}&quot;`);
    }
  });

  it("resolve the type of a problem the API answers to that code's page", async () => {
    const missing = await api(stack, 'GET', '/v1/payments/pay_01JD3Q4V7M0000000000000000');
    expect(missing.status).toBe(404);
    const page = await fetch(new URL(missing.body.type, `${stack.apiUrl}/v1/payments/`));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`<h1>${missing.body.code}</h1>`);
  });

  it('answer a code that is not in the catalog like any unknown route', async () => {
    const unknown = await api(stack, 'GET', '/problems/not_a_code', { key: null });
    expect(unknown).toMatchObject({ status: 404, body: { code: 'route_not_found' } });
  });
});
