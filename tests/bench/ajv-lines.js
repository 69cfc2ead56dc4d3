// ajv-lines: validate JSON Lines on stdin against a JSON Schema 2020-12 file
// with ajv 8 and ajv-formats, one record a line, as validate does (formats
// asserted); prints the count of records and of invalid ones.  For make
// bench only: apipe's programs never run node.
'use strict';
const fs = require('fs');
const readline = require('readline');
const Ajv2020 = require('ajv/dist/2020');
const addFormats = require('ajv-formats');

const schema = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: false });
addFormats(ajv);
const check = ajv.compile(schema);
let n = 0, bad = 0;
readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
	.on('line', (line) => { n++; if (!check(JSON.parse(line))) bad++; })
	.on('close', () => { process.stdout.write(`${n} ${bad}\n`); });
