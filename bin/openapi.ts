/** Writes docs/openapi.json from the zod schemas (`npm run openapi`). */
import { writeFileSync } from 'node:fs';
import { buildOpenApi } from '../schemas/openapi.js';

const path = new URL('../docs/openapi.json', import.meta.url);
writeFileSync(path, `${JSON.stringify(buildOpenApi(), null, 2)}\n`);
console.log(`wrote ${path.pathname}`);
