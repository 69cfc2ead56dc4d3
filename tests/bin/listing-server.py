#!/usr/bin/env python3
"""A json-server-shaped listing for tests (loopback only).

    listing-server.py --port-file P N

GET /items answers a bare JSON array of records {id, name} out of N, with
X-Total-Count: N, sliced by _start/_end/_limit or _page/_limit as
json-server 0.17 does (a Link header only with _page).

Listings whose position travels in a JSON request body:
GET /parent/K/children?page=N[&delay_ms=D]  3 pages (Link) of 2 children of K
GET /short     pages of 100 (Link header) with X-Total-Count: N+3
GET /nototal   the same without a total
POST /notion   {"start_cursor"?, "page_size"?} -> {"results", "next_cursor", "has_more"}
POST /search   {"size", "from"? | "search_after"?} -> Elasticsearch's hits.hits
               with hits.total {"value": N} and each hit's "sort"
POST /graphql  {"query", "variables": {"first", "after"?}} -> a Relay connection
               at data.viewer.items (edges, pageInfo, totalCount); variables
               {"fail": true} answer 200 with GraphQL errors.
"""
import json, os, sys, time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlencode, urlsplit

port_file, n = sys.argv[2], int(sys.argv[3])
rows = [{"id": i, "name": "n%d" % i} for i in range(1, n + 1)]


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self):
        u = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        headers = {"X-Total-Count": str(n), "Content-Type": "application/json"}
        if u.path.startswith("/parent/"):
            # /parent/K/children?page=N[&delay_ms=D]: 3 pages of 2 children of parent K
            k = int(u.path.split("/")[2])
            page = int(q.get("page", 1))
            if "delay_ms" in q:
                time.sleep(int(q["delay_ms"]) / 1000)
            body = [{"id": "%d-%d" % (k, (page - 1) * 2 + i), "parent": k} for i in (1, 2)]
            h = {}
            if page < 3:
                nq = dict(q)
                nq["page"] = page + 1
                h["Link"] = '<http://127.0.0.1:%d%s?%s>; rel="next"' % (
                    self.server.server_port, u.path, urlencode(nq))
            return self.reply(200, body, h)
        if u.path in ("/short", "/nototal"):
            # pages of 100 through a Link header; /short reports 3 more than it
            # serves, /nototal reports no total
            page = int(q.get("_page", 1))
            body = rows[(page - 1) * 100: page * 100]
            h = {} if u.path == "/nototal" else {"X-Total-Count": str(n + 3)}
            if page * 100 < n:
                h["Link"] = '<http://127.0.0.1:%d%s?_page=%d>; rel="next"' % (
                    self.server.server_port, u.path, page + 1)
            return self.reply(200, body, h)
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

    def do_POST(self):
        n_in = int(self.headers.get("Content-Length", 0))
        try:
            req = json.loads(self.rfile.read(n_in) or b"{}")
        except ValueError:
            return self.reply(400, {"error": "the body is not JSON"})
        if not isinstance(req, dict):
            return self.reply(400, {"error": "the body is not a JSON object"})
        path = urlsplit(self.path).path
        if path == "/notion":
            size = int(req.get("page_size", 10))
            start = int(req["start_cursor"][1:]) if req.get("start_cursor") else 0
            page = rows[start:start + size]
            more = start + size < n
            return self.reply(200, {"object": "list", "results": page,
                                    "next_cursor": "c%d" % (start + size) if more else None,
                                    "has_more": more})
        if path == "/search":
            size = int(req.get("size", 10))
            if "search_after" in req:
                start = int(req["search_after"][0])
            else:
                start = int(req.get("from", 0))
            page = rows[start:start + size]
            return self.reply(200, {"took": 1, "hits": {
                "total": {"value": n, "relation": "eq"},
                "hits": [{"_id": str(r["id"]), "_source": r, "sort": [r["id"], r["name"]]}
                         for r in page]}})
        if path == "/graphql":
            v = req.get("variables") or {}
            if "query" not in req:
                return self.reply(400, {"errors": [{"message": "no query"}]})
            if v.get("fail"):
                return self.reply(200, {"data": None, "errors": [{"message": "boom"}]})
            first = int(v.get("first", 10))
            start = int(v["after"][4:]) if v.get("after") else 0
            page = rows[start:start + first]
            return self.reply(200, {"data": {"viewer": {"items": {
                "totalCount": n,
                "edges": [{"cursor": "cur:%d" % (start + i + 1), "node": r}
                          for i, r in enumerate(page)],
                "pageInfo": {"hasNextPage": start + first < n,
                             "endCursor": "cur:%d" % (start + len(page)) if page else None}}}}})
        return self.reply(404, {"error": "no such path"})

    def reply(self, code, obj, headers=None):
        out = json.dumps(obj).encode()
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *a):
        pass


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loopback import serve  # noqa: E402

serve(H, port_file)
