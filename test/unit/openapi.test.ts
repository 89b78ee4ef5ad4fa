import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type * as z from 'zod';
import {
  CaptureRequestSchema,
  CreatePaymentRequestSchema,
  CreateRefundRequestSchema,
  UpdatePaymentRequestSchema,
} from '../../schemas/api.js';
import { kbankNotifySchema, kbankThreeDsReturnSchema } from '../../schemas/kbank.js';
import { buildEventSchemas, buildOpenApi } from '../../schemas/openapi.js';
import { GrantPointsRequestSchema } from '../../schemas/points.js';
import { CreateWebhookEndpointRequestSchema } from '../../schemas/webhooks.js';

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const committed = (file: string) => JSON.parse(readFileSync(root(`docs/${file}`), 'utf8'));

type Operation = {
  operationId: string;
  requestBody?: { content: Record<string, { examples?: Record<string, { value: unknown }> }> };
};
const operations = (doc: Record<string, unknown>): Operation[] =>
  Object.values(doc.paths as Record<string, Record<string, Operation>>).flatMap((path) =>
    Object.values(path),
  );

describe('OpenAPI document', () => {
  it('matches the zod schemas (run `npm run openapi` after changing them)', () => {
    expect(committed('openapi.json')).toEqual(JSON.parse(JSON.stringify(buildOpenApi())));
    expect(committed('events.schema.json')).toEqual(JSON.parse(JSON.stringify(buildEventSchemas())));
  });

  it('references only components it defines, and defines only components it references', () => {
    const document = buildOpenApi();
    const doc = JSON.stringify(document.paths);
    const defined = Object.keys((document.components as { schemas: object }).schemas);
    const referenced = new Set(
      [...JSON.stringify(document).matchAll(/#\/components\/schemas\/([A-Za-z]+)/g)].map((m) => m[1]),
    );
    expect([...referenced].sort()).toEqual([...defined].sort());
    expect(doc).toContain('#/components/schemas/CreatePaymentRequest');
  });

  describe('request examples', () => {
    // The schema each handler parses its body with: an example must be a request the API accepts.
    const bodySchemas: Record<string, z.ZodType> = {
      createPayment: CreatePaymentRequestSchema,
      updatePayment: UpdatePaymentRequestSchema,
      capturePayment: CaptureRequestSchema,
      createRefund: CreateRefundRequestSchema,
      kbankNotify: kbankNotifySchema,
      kbankBrowserReturn: kbankThreeDsReturnSchema,
      grantPoints: GrantPointsRequestSchema,
      createWebhookEndpoint: CreateWebhookEndpointRequestSchema,
    };
    const withBody = operations(buildOpenApi()).filter((operation) => operation.requestBody);

    it('exist for every request body', () => {
      expect(withBody.map((operation) => operation.operationId).sort()).toEqual(
        Object.keys(bodySchemas).sort(),
      );
      for (const { operationId, requestBody } of withBody) {
        for (const [type, media] of Object.entries(requestBody?.content ?? {})) {
          expect([operationId, type, Object.keys(media.examples ?? {}).length > 0]).toEqual([
            operationId,
            type,
            true,
          ]);
        }
      }
    });

    it.each(withBody.map((operation) => [operation.operationId, operation] as const))(
      'of %s are accepted by the schema the API parses them with',
      (operationId, { requestBody }) => {
        const schema = bodySchemas[operationId] as z.ZodType;
        for (const media of Object.values(requestBody?.content ?? {})) {
          for (const [name, { value }] of Object.entries(media.examples ?? {})) {
            const parsed = schema.safeParse(value);
            expect([name, parsed.success ? 'accepted' : parsed.error.message]).toEqual([name, 'accepted']);
          }
        }
      },
    );

    it('would catch an example the API refuses', () => {
      const card = (operations(buildOpenApi()).find((o) => o.operationId === 'createPayment') as Operation)
        .requestBody?.content['application/json']?.examples?.card?.value as { amount: number };
      expect(CreatePaymentRequestSchema.safeParse(card).success).toBe(true);
      expect(CreatePaymentRequestSchema.safeParse({ ...card, amount: card.amount + 1 }).success).toBe(false);
    });
  });

  describe('peer linters on the committed document', () => {
    const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
    /** Runs a linter's CLI; a linter exits non-zero when it finds errors, and its report is still on stdout. */
    async function lint(cli: string, args: string[]): Promise<string> {
      try {
        return (await promisify(execFile)(root(`node_modules/.bin/${cli}`), args, { cwd: root(''), env }))
          .stdout;
      } catch (error) {
        const { stdout } = error as { stdout?: string };
        if (!stdout) throw error;
        return stdout;
      }
    }

    it('Redocly (recommended rules, redocly.yaml) reports 0 errors and 0 warnings', async () => {
      const report = JSON.parse(await lint('redocly', ['lint', 'docs/openapi.json', '--format', 'json']));
      expect(
        report.problems.map((p: { ruleId: string; message: string }) => `${p.ruleId}: ${p.message}`),
      ).toEqual([]);
      expect(report.totals).toMatchObject({ errors: 0, warnings: 0, ignored: 0 });
    }, 120_000);

    it('Spectral (spectral:oas and the OWASP API ruleset, .spectral.yaml) reports 0 errors and 0 warnings', async () => {
      const report = JSON.parse(
        await lint('spectral', [
          'lint',
          'docs/openapi.json',
          '--ruleset',
          '.spectral.yaml',
          '--format',
          'json',
          '--quiet',
        ]),
      );
      expect(report.map((p: { code: string; message: string }) => `${p.code}: ${p.message}`)).toEqual([]);
    }, 120_000);

    it('runs the OWASP rules as published on a document the overrides do not name', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'openapi-lint-'));
      const document = committed('openapi.json');
      writeFileSync(join(dir, 'openapi.json'), JSON.stringify({ ...document, paths: {}, webhooks: {} }));
      const report = JSON.parse(
        await lint('spectral', [
          'lint',
          join(dir, 'openapi.json'),
          '--ruleset',
          '.spectral.yaml',
          '--format',
          'json',
          '--quiet',
        ]),
      );
      expect(report.map((p: { code: string; path: string[] }) => `${p.code} ${p.path.join('.')}`)).toContain(
        'owasp:api8:2023-no-server-http servers.0.url',
      );
    }, 120_000);

    it('explains in docs/api-lint.md every rule .spectral.yaml changes or turns off', () => {
      const ruleset = readFileSync(root('.spectral.yaml'), 'utf8');
      const explained = readFileSync(root('docs/api-lint.md'), 'utf8');
      const rules = new Set([...ruleset.matchAll(/(owasp:[a-z0-9:-]+):/g)].map((m) => m[1]));
      expect(rules.size).toBeGreaterThan(5);
      for (const rule of rules) expect([rule, explained.includes(`\`${rule}\``)]).toEqual([rule, true]);
    });
  });
});
