// An HTTP/2 server without TLS (h2c, prior knowledge only), on 127.0.0.1
// and a port of its choosing written to the file named first: it answers
// every request with {"path":…,"items":[{"id":1}]} as JSON.
'use strict';
const http2 = require('http2');
const fs = require('fs');

const srv = http2.createServer();
srv.on('stream', (stream, headers) => {
	stream.respond({ ':status': 200, 'content-type': 'application/json' });
	stream.end(JSON.stringify({ path: headers[':path'], items: [{ id: 1 }] }));
});
srv.listen(0, '127.0.0.1', () => fs.writeFileSync(process.argv[2], String(srv.address().port)));
