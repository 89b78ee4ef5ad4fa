/**
 * Writes docs/openapi.json (the API) and docs/events.schema.json (the bus's events) from the zod schemas,
 * then the typed client's types and the Postman collection from the document, and docs/problems.md from the
 * problem pages (`npm run openapi`).
 */
import { writeFileSync } from 'node:fs';
import {
  asFile,
  COLLECTION_PATH,
  ENVIRONMENT_PATH,
  generateCollection,
} from '../clients/postman/generate.js';
import { generateClientSchema, SCHEMA_PATH } from '../clients/typescript/generate.js';
import { PROBLEMS_DOC_PATH, problemsMarkdown } from '../functions/handlers/problem-pages.js';
import { buildEventSchemas, buildOpenApi } from '../schemas/openapi.js';

for (const [file, document] of [
  ['openapi.json', buildOpenApi()],
  ['events.schema.json', buildEventSchemas()],
] as const) {
  const path = new URL(`../docs/${file}`, import.meta.url);
  writeFileSync(path, `${JSON.stringify(document, null, 2)}\n`);
  console.log(`wrote ${path.pathname}`);
}
writeFileSync(SCHEMA_PATH, await generateClientSchema());
console.log(`wrote ${SCHEMA_PATH.pathname}`);
const { collection, environment } = await generateCollection();
writeFileSync(COLLECTION_PATH, asFile(collection));
writeFileSync(ENVIRONMENT_PATH, asFile(environment));
console.log(`wrote ${COLLECTION_PATH.pathname} and ${ENVIRONMENT_PATH.pathname}`);
writeFileSync(PROBLEMS_DOC_PATH, problemsMarkdown());
console.log(`wrote ${PROBLEMS_DOC_PATH.pathname}`);
