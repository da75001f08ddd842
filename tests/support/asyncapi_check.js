// Checks docs/asyncapi.json with the AsyncAPI initiative's own parser (@asyncapi/parser, the validator behind
// `asyncapi validate`), and optionally real messages against the payload schemas the document gives them.
//
// usage: node asyncapi_check.js MODULES_DIR DOCUMENT [SAMPLES]
//   MODULES_DIR: where `npm install @asyncapi/parser ajv` was run (tests/support/asyncapi.py keeps it in a cache)
//   SAMPLES: a JSON file [{"channel": ID, "payload": {v, kind, body}}, ...] (e.g. what `paceline events --json` saw)
// Prints one JSON line per diagnostic or refused sample; exit status 0 when the document has no error and
// every sample matches its channel's message.
'use strict';
const fs = require('fs');
const path = require('path');

const [modules, documentPath, samplesPath] = process.argv.slice(2);
const load = (name) => require(path.join(modules, 'node_modules', name));

async function main() {
  const { Parser } = load('@asyncapi/parser');
  const text = fs.readFileSync(documentPath, 'utf8');
  const { document, diagnostics } = await new Parser().parse(text, { source: documentPath });
  let failed = !document;
  for (const d of diagnostics) {
    // severity 0 error, 1 warning, 2 information, 3 hint: errors and warnings count
    if (d.severity <= 1) failed = true;
    console.log(JSON.stringify({ severity: d.severity, code: d.code, message: d.message, path: d.path.join('.') }));
  }
  if (samplesPath) failed = checkSamples(JSON.parse(text), JSON.parse(fs.readFileSync(samplesPath, 'utf8'))) || failed;
  process.exit(failed ? 1 : 0);
}

function checkSamples(doc, samples) {
  const Ajv = load('ajv');
  const ajv = new Ajv({ strict: false, allErrors: true });
  const compiled = {};
  let failed = false;
  for (const sample of samples) {
    const channel = doc.channels[sample.channel];
    if (!channel) {
      console.log(JSON.stringify({ sample: sample.channel, message: 'no such channel' }));
      failed = true;
      continue;
    }
    const ref = Object.values(channel.messages)[0].$ref;
    const key = ref.split('/').pop();
    // the payload schema with the document's components beside it, so "#/components/schemas/X" resolves
    compiled[key] = compiled[key] || ajv.compile({ ...doc.components.messages[key].payload, components: doc.components });
    if (!compiled[key](sample.payload)) {
      console.log(JSON.stringify({ sample: sample.channel, errors: compiled[key].errors }));
      failed = true;
    }
  }
  console.log(JSON.stringify({ samples: samples.length, refused: failed }));
  return failed;
}

main().catch((err) => {
  console.log(JSON.stringify({ severity: 0, code: 'crash', message: String(err && err.stack || err) }));
  process.exit(2);
});
