// Read a Parquet file with DuckDB (npm @duckdb/node-api), an independent
// reader, and print what it found as JSON Lines:
//   first line: {"columns":[[name, type], …], "rows":N, "row_groups":G,
//                "encodings":{column: "the first row group's encodings"}}
//   then one line a row: an array of the values as DuckDB gives them as
//   text (timestamps as microseconds since the epoch, UTC), null as null.
//
//   node duckdb-dump.js FILE.parquet
//
// The module comes from APIPE_NPM (a node_modules directory).
'use strict';
const path = require('path');
const duckdb = require(path.join(process.env.APIPE_NPM, '@duckdb/node-api'));
const file = process.argv[2].replace(/'/g, "''");

(async () => {
	const db = await duckdb.DuckDBInstance.create(':memory:');
	const c = await db.connect();
	await c.run("SET TimeZone = 'UTC'");
	const desc = (await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).getRows();
	const meta = (await c.runAndReadAll(
		`SELECT count(DISTINCT row_group_id)::VARCHAR FROM parquet_metadata('${file}')`)).getRows();
	const enc = {};
	for (const r of (await c.runAndReadAll(`SELECT path_in_schema, encodings FROM ` +
		`parquet_metadata('${file}') WHERE row_group_id = 0`)).getRows())
		enc[String(r[0])] = String(r[1]);
	const cols = desc.map((r) => [String(r[0]), String(r[1])]);
	const sel = cols.map(([n, t]) => {
		const q = '"' + n.replace(/"/g, '""') + '"';
		return t.startsWith('TIMESTAMP') ? `epoch_us(${q})::VARCHAR` : `${q}::VARCHAR`;
	}).join(', ');
	const rows = (await c.runAndReadAll(`SELECT ${sel || '1'} FROM read_parquet('${file}')`)).getRows();
	const out = [JSON.stringify({ columns: cols, rows: rows.length, row_groups: Number(meta[0][0]),
		encodings: enc })];
	for (const r of rows)
		out.push(JSON.stringify(r.map((v) => (v === null ? null : String(v)))));
	process.stdout.write(out.join('\n') + '\n');
})().catch((e) => {
	console.error('duckdb-dump: ' + String(e));
	process.exit(1);
});
