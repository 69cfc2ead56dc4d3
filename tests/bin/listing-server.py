#!/usr/bin/env python3
"""A json-server-shaped listing for tests (loopback only).

    listing-server.py --port-file P N

GET /items answers a bare JSON array of records {id, name} out of N, with
X-Total-Count: N, sliced by _start/_end/_limit or _page/_limit as
json-server 0.17 does (a Link header only with _page).
"""
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

port_file, n = sys.argv[2], int(sys.argv[3])
rows = [{"id": i, "name": "n%d" % i} for i in range(1, n + 1)]


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        u = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        headers = {"X-Total-Count": str(n), "Content-Type": "application/json"}
        lim = int(q["_limit"]) if "_limit" in q else None
        if "_page" in q:
            page, lim = int(q["_page"]), lim or 10
            body = rows[(page - 1) * lim: page * lim]
            last = (n + lim - 1) // lim
            links = ['<http://127.0.0.1:%d/items?_page=1&_limit=%d>; rel="first"' % (self.server.server_port, lim)]
            if page < last:
                links.append('<http://127.0.0.1:%d/items?_page=%d&_limit=%d>; rel="next"' % (self.server.server_port, page + 1, lim))
            links.append('<http://127.0.0.1:%d/items?_page=%d&_limit=%d>; rel="last"' % (self.server.server_port, last, lim))
            headers["Link"] = ", ".join(links)
        else:
            start = int(q.get("_start", 0))
            end = int(q["_end"]) if "_end" in q else (start + lim if lim is not None else n)
            body = rows[start:end]
        out = json.dumps(body).encode()
        self.send_response(200)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *a):
        pass


srv = HTTPServer(("127.0.0.1", 0), H)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
