// Independent check of grammar-constrained generations: every output must parse as JSON and validate
// against its schema under ajv (JSON Schema 2020-12, formats from ajv-formats).
// Usage: node validate_with_ajv.mjs samples.json   where samples.json is [{name, schema, outputs: [string]}]
// Prints one line per invalid output and a final "valid N/M"; exits 1 unless all are valid.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tools/reference/package.json', import.meta.url));
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;

const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);

let valid = 0, total = 0;
for (const c of cases) {
  const validate = ajv.compile(c.schema);
  c.outputs.forEach((text, i) => {
    total++;
    let doc;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      console.log(`${c.name}[${i}]: not JSON (${e.message}): ${JSON.stringify(text)}`);
      return;
    }
    if (!validate(doc)) {
      console.log(`${c.name}[${i}]: invalid: ${ajv.errorsText(validate.errors)}: ${JSON.stringify(text)}`);
      return;
    }
    valid++;
  });
}
console.log(`valid ${valid}/${total}`);
process.exit(valid === total && total > 0 ? 0 : 1);
