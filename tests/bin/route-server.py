#!/usr/bin/env python3
"""A tiny HTTP server for tests that need a server of their own shape.

    route-server.py --host 127.0.0.2 --port-file P --log L ROUTES.json

ROUTES.json maps a path (without query) to a reply:
    {"/first": {"status": 200, "headers": {"Link": "<...>; rel=\"next\""},
                "body": "{\"data\":[1]}"}}
In a body or header value, {query} is replaced by the request's query
string, {jheader:NAME} by request header NAME JSON-escaped,
and {port:NAME} by the number in the file NAME (read at request
time, so two servers can point at each other).  Every request is logged to
L as one JSON line: method, path, query, headers (lower-case names).  The
server binds port 0 and writes its port to P.  Only loopback addresses.
"""
import argparse, json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--port-file", required=True)
ap.add_argument("--log", required=True)
ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
ap.add_argument("--client-ca", help="with --tls: require a client certificate signed by this CA")
ap.add_argument("--tls12", action="store_true", help="with --tls: TLS 1.2 at most (a refused client certificate ends the handshake itself)")
ap.add_argument("routes")
args = ap.parse_args()
if not args.host.startswith("127."):
    sys.exit("route-server: loopback only")
routes = json.load(open(args.routes))


def fill(text, query, headers):
    import re
    text = text.replace("{query}", query)
    text = re.sub(r"\{jheader:([^}]+)\}",
                  lambda m: json.dumps(headers.get(m.group(1), ""))[1:-1], text)
    return re.sub(r"\{port:([^}]+)\}", lambda m: open(m.group(1)).read().strip(), text)


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_any(self):
        path, _, query = self.path.partition("?")
        n = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        with open(args.log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": path, "query": query,
                                "headers": {k.lower(): v for k, v in self.headers.items()},
                                "body": body}) + "\n")
        r = routes.get(path, {"status": 404, "body": "{\"error\":\"no route\"}"})
        hdrs = {k.lower(): v for k, v in self.headers.items()}
        out = fill(r.get("body", ""), query, hdrs).encode()
        self.send_response(r.get("status", 200))
        for k, v in r.get("headers", {}).items():
            self.send_header(k, fill(v, query, hdrs))
        if "content-type" not in {k.lower() for k in r.get("headers", {})}:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_HEAD = handle_any

    def log_message(self, *a):
        pass


srv = HTTPServer((args.host, 0), H)
if args.tls:
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*args.tls)
    if args.tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if args.client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(args.client_ca)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(args.port_file + ".tmp", args.port_file)
srv.serve_forever()
