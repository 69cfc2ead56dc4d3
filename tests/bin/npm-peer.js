// Start a real peer from npm on 127.0.0.1, on a port the system picks,
// and write the port to PORTFILE once it listens.
//
//   node npm-peer.js json-server DB.json PORTFILE
//   node npm-peer.js json-graphql-server DB.json PORTFILE
//
// The modules come from APIPE_NPM (a node_modules directory).
'use strict';
const fs = require('fs');
const path = require('path');
const [kind, dbfile, portfile] = process.argv.slice(2);
const mods = process.env.APIPE_NPM;
const need = (m) => require(path.join(mods, m));
let app;
if (kind === 'json-server') {
	const js = need('json-server');
	app = js.create();
	app.use(js.defaults({ logger: false }));
	app.use(js.router(dbfile));
} else if (kind === 'json-graphql-server') {
	const express = need('express');
	const { jsonGraphqlExpress } = need('json-graphql-server/dist/json-graphql-server-node.cjs');
	app = express();
	app.use('/', jsonGraphqlExpress(JSON.parse(fs.readFileSync(dbfile, 'utf8'))));
} else {
	console.error('npm-peer: unknown peer ' + kind);
	process.exit(64);
}
const srv = app.listen(0, '127.0.0.1', () => {
	fs.writeFileSync(portfile + '.tmp', String(srv.address().port));
	fs.renameSync(portfile + '.tmp', portfile);
});
