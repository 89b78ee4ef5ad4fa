/**
 * Writes docs/openapi.json (the API) and docs/events.schema.json (the bus's events) from the zod schemas,
 * then the typed client's types from the document (`npm run openapi`).
 */
import { writeFileSync } from 'node:fs';
import { generateClientSchema, SCHEMA_PATH } from '../clients/typescript/generate.js';
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
