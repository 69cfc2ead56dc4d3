// make bench's reference for tabulate: DuckDB (npm @duckdb/node-api) turning
// the same JSON Lines into Parquet with the same codec.
//   node duckdb-copy.js IN.jsonl OUT.parquet gzip|uncompressed
'use strict';
const path = require('path');
const duckdb = require(path.join(process.env.APIPE_NPM, '@duckdb/node-api'));
const [src, dst, codec] = process.argv.slice(2).map((s) => s.replace(/'/g, "''"));

(async () => {
	const db = await duckdb.DuckDBInstance.create(':memory:');
	const c = await db.connect();
	await c.run(`COPY (SELECT * FROM read_json('${src}', format = 'newline_delimited')) ` +
		`TO '${dst}' (FORMAT parquet, COMPRESSION ${codec})`);
})().catch((e) => {
	console.error('duckdb-copy: ' + String(e));
	process.exit(1);
});
