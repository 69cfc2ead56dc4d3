#!/usr/bin/env python3
"""Imitations of public APIs' documented pagination, for tests (loopback only).

    corpus-server.py --port-file P CORPUS.json

CORPUS.json (tests/fixtures/api-corpus.json) lists one case an API: where
its records sit, how a request carries its position, what each page says
about the next (emitters), and its default page size, all as the API's
public reference documentation describes them.  The server plays each
case under /c/NAME + the case's path, with records {"id", "name"} 1..n.

    GET /_cases          [{"name", "start", "method", "body", "n", "size"}, ...]
    GET /_ids/NAME       the case's record ids, one a line

It keeps no state: a position is in the request.  A position it cannot
read is a 400, as real APIs answer; a parameter it does not know is
ignored, as real APIs do, so a position sent back under the wrong name
gets the first page again.

Emitters ("t"):
  link       RFC 8288 Link header: rels (next, prev, self, first, last),
             "split" one field line per link, "extra" sentry (results=,
             cursor= on every link, next kept at the end with results="false")
  next_url   the next page's URL at "at": form abs | path | rel | base
             (relative to /_links/base, Confluence); "end" absent | null | empty
             | keep (present on every page: the end is an empty page)
  token      the next position's token at "at" ("end" as above; "pct": the
             token as the API shows it, already percent-encoded)
  links_arr  a HATEOAS array at "at": {"href", "rel", "method"} (rel_list:
             "rel": ["next"], Siren)
  laravel    Laravel's "links" array of {"url", "label", "active"}
  flag       a boolean at "at": sense more (true: more follow) | last
  echo       the current position (offset or page number) at "at"
  echo_offset  the offset of the page's first record at "at"
  total      the listing's size at "at" or "header:NAME"; obj: {"value",
             "relation"}; null: null
  count      the records on this page at "at"
  pages      how many pages at "at"
  page_size  the page size at "at"
  next_num   the next page's number at "at", null on the last
  remaining  records after this page at "at"
  delta      a delta or sync URL at "at", on the last page only
  const      "v" at "at"
  crange     Content-Range: START-END/N (PostgREST), and 206 while partial
  hdr_page   GitLab's X-Page, X-Per-Page, X-Next-Page ("" on the last)
"""
import base64, json, sys
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, quote, urlencode, urlsplit

port_file, corpus_file = sys.argv[2], sys.argv[3]
with open(corpus_file) as f:
    CASES = {c["name"]: c for c in json.load(f)["cases"]}


def ids(c):
    p = c.get("id_prefix")
    return [("%s%05d" % (p, i)) if p else i for i in range(1, c["n"] + 1)]


def tok_enc(off):
    # opaque, with the characters a query string must carry encoded
    return base64.b64encode(b"\xfb\xef" + ("o=%d" % off).encode()).decode()


def tok_dec(s):
    try:
        raw = base64.b64decode(s.encode(), validate=True)
    except Exception:
        return None
    if not raw.startswith(b"\xfb\xef") or not raw[2:].startswith(b"o="):
        return None
    try:
        return int(raw[4:])
    except ValueError:
        return None


def ptr_set(doc, ptr, v):
    parts = [p.replace("~1", "/").replace("~0", "~") for p in ptr.split("/")[1:]]
    for p in parts[:-1]:
        doc = doc.setdefault(p, {})
    doc[parts[-1]] = v


def ptr_get(doc, ptr):
    for p in [p.replace("~1", "/").replace("~0", "~") for p in ptr.split("/")[1:]]:
        if not isinstance(doc, dict) or p not in doc:
            return None
        doc = doc[p]
    return doc


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def reply(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or []):
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except OSError:
            pass	# a client that stopped reading (a crawl that stopped)

    def do_GET(self):
        self.serve(None)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(n) if n else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return self.reply(400, {"error": "the body is not JSON"})
        self.serve(body)

    def serve(self, body):
        u = urlsplit(self.path)
        if u.path == "/_cases":
            out = []
            for c in CASES.values():
                out.append({"name": c["name"], "api": c["api"], "method": c.get("method", "GET"),
                            "start": "/c/%s%s%s" % (c["name"], c["path"],
                                                    "?" + c["query"] if c.get("query") else ""),
                            "body": c.get("body"), "n": c["n"], "size": c["size"],
                            "total": any(e["t"] in ("total", "crange") and not e.get("null")
                                         for e in c["emit"])})
            return self.reply(200, out)
        if u.path.startswith("/_ids/"):
            c = CASES.get(u.path[6:])
            data = "".join("%s\n" % i for i in ids(c)).encode() if c else b""
            self.send_response(200 if c else 404)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            return self.wfile.write(data)
        parts = u.path.split("/", 3)
        c = CASES.get(parts[2]) if len(parts) > 2 and parts[1] == "c" else None
        if not c:
            return self.reply(404, {"error": "no such case"})
        rest = "/" + parts[3] if len(parts) > 3 else "/"
        pathtok = None
        if rest != c["path"]:
            if c["pos"]["kind"] == "path" and rest.startswith(c["path"] + "/"):
                pathtok = rest[len(c["path"]) + 1:]
            else:
                return self.reply(404, {"error": "not found"})
        q = {k: v[-1] for k, v in parse_qs(u.query, keep_blank_values=True).items()}
        return self.page(c, q, body, pathtok)

    def param(self, c, q, body, name):
        if name is None:
            return None
        if name.startswith("body:"):
            v = ptr_get(body or {}, name[5:])
            return None if v is None else str(v) if not isinstance(v, str) else v
        return q.get(name)

    def page(self, c, q, body, pathtok):
        pos = c["pos"]
        recs = ids(c)
        size = c["size"]
        sp = self.param(c, q, body, c.get("size_param"))
        if sp is not None:
            try:
                size = max(1, min(int(sp), c.get("max_size", 10 ** 6)))
            except ValueError:
                return self.reply(400, {"error": "bad page size"})
        raw = pathtok if pos["kind"] == "path" else self.param(c, q, body, pos.get("param"))
        base = pos.get("base", 1)
        start = 0
        if raw is not None and raw != "":
            if pos["kind"] in ("token", "path"):
                start = tok_dec(raw)
            elif pos["kind"] == "offset":
                start = int(raw) if raw.isdigit() else None
            elif pos["kind"] == "page":
                start = (int(raw) - base) * size if raw.isdigit() and int(raw) >= base else None
            elif pos["kind"] == "after_id":
                start = recs.index(raw) + 1 if raw in recs else None
            if start is None or (start > len(recs) and pos["kind"] not in ("offset", "page")):
                return self.reply(400, {"error": "invalid position %r" % raw})
            start = min(start, len(recs))
        end = min(start + size, len(recs))
        more = end < len(recs)
        rows = [{"id": i, "name": "r%s" % i} for i in recs[start:end]]
        if pos["kind"] == "page":
            cur, nxt = start // size + base, start // size + base + 1
        else:
            cur, nxt = start, end
        nextval = (recs[end - 1] if pos["kind"] == "after_id" else str(nxt) if pos["kind"] in
                   ("offset", "page") else tok_enc(nxt)) if more else None
        doc = [] if c["records"] == "" else {}
        headers, status = [], 200
        host = "http://%s" % self.headers.get("Host")
        prefix = "/c/%s" % c["name"]

        def put(at, v):
            if at.startswith("header:"):
                headers.append((at[7:], "" if v is None else str(v)))
            else:
                ptr_set(doc, at, v)

        def url_for(value, form="abs"):
            if pos["kind"] == "path":
                path, qq = c["path"] + "/" + value, dict(q)
            else:
                path, qq = c["path"], dict(q)
                qq[pos["param"]] = value
            if c.get("size_param") and not c["size_param"].startswith("body:") and \
                    c.get("echo_size", True):
                qq[c["size_param"]] = str(size)
            qs = urlencode(qq, quote_via=quote, safe="")
            if form == "rel":
                return "%s%s" % (path.rsplit("/", 1)[1], "?" + qs if qs else "")
            if form == "base":
                return "%s%s" % (path[len(e["base"]):], "?" + qs if qs else "")
            full = "%s%s%s" % (prefix, path, "?" + qs if qs else "")
            return full if form == "path" else host + full

        self_url = url_for(raw or "", "abs") if raw else host + self.path
        for e in c["emit"]:
            t, at = e["t"], e.get("at")
            endv = e.get("end", "absent")
            if t == "link":
                links = []
                for rel in e.get("rels", ["next"]):
                    if rel == "next":
                        if more:
                            v = nextval
                            links.append((url_for(v), rel, v, "true"))
                        elif e.get("extra") == "sentry":
                            links.append((url_for(tok_enc(end)), rel, tok_enc(end), "false"))
                    elif rel == "self":
                        links.append((self_url, rel, raw or "", "true"))
                    elif rel in ("prev", "previous") and start > 0:
                        links.append((url_for(tok_enc(max(0, start - size)) if pos["kind"] ==
                                              "token" else str(cur - 1)), rel, "", "true"))
                    elif rel == "first":
                        links.append((url_for(tok_enc(0) if pos["kind"] == "token" else
                                              str(base if pos["kind"] == "page" else 0)),
                                      rel, "", "true"))
                    elif rel == "last" and pos["kind"] == "page":
                        links.append((url_for(str(max(0, (len(recs) - 1)) // size + base)),
                                      rel, "", "true"))
                if e.get("extra") == "sentry" and start == 0:
                    links.insert(0, (url_for(tok_enc(0)), "previous", tok_enc(0), "false"))
                vals = []
                for href, rel, cur_t, res in links:
                    v = '<%s>; rel="%s"' % (href, rel)
                    if e.get("extra") == "sentry":
                        v += '; results="%s"; cursor="%s"' % (res, cur_t)
                    vals.append(v)
                if e.get("split"):
                    headers += [("Link", v) for v in vals]
                elif vals:
                    headers.append(("Link", ", ".join(vals)))
            elif t in ("next_url", "token"):
                if more or endv == "keep":
                    v = nextval if more else tok_enc(end)
                    if t == "next_url":
                        val = url_for(v, e.get("form", "abs"))
                    else:
                        val = quote(v, safe="") if e.get("pct") else v
                    ptr_set(doc, at, val)
                elif endv == "null":
                    ptr_set(doc, at, None)
                elif endv == "empty":
                    ptr_set(doc, at, "")
                if t == "next_url" and e.get("form") == "base":
                    ptr_set(doc, at.rsplit("/", 1)[0] + "/base", host + prefix + e["base"])
            elif t == "links_arr":
                arr = [{"href": self_url, "rel": ["self"] if e.get("rel_list") else "self",
                        "method": "GET"}]
                if more:
                    arr.append({"href": url_for(nextval), "rel": ["next"] if e.get("rel_list")
                                else "next", "method": "GET"})
                ptr_set(doc, at, arr)
            elif t == "laravel":
                ptr_set(doc, at, [{"url": None, "label": "&laquo; Previous", "active": False},
                                  {"url": self_url, "label": str(cur), "active": True},
                                  {"url": url_for(nextval) if more else None,
                                   "label": "Next &raquo;", "active": False}])
            elif t == "flag":
                ptr_set(doc, at, more if e.get("sense", "more") == "more" else not more)
            elif t == "echo":
                ptr_set(doc, at, cur)
            elif t == "echo_offset":
                ptr_set(doc, at, start)
            elif t == "total":
                v = None if e.get("null") else len(recs)
                if e.get("obj"):
                    v = {"value": v, "relation": "eq"}
                put(at, v)
            elif t == "count":
                put(at, len(rows))
            elif t == "pages":
                put(at, (len(recs) + size - 1) // size)
            elif t == "page_size":
                put(at, size)
            elif t == "next_num":
                put(at, nxt if more else None)
            elif t == "remaining":
                if more:
                    ptr_set(doc, at, len(recs) - end)
            elif t == "delta":
                if not more:
                    ptr_set(doc, at, host + prefix + c["path"] + "?deltatoken=" + tok_enc(0))
            elif t == "const":
                ptr_set(doc, at, e["v"])
            elif t == "crange":
                headers.append(("Content-Range", "%d-%d/%d" % (start, end - 1, len(recs))
                                if rows else "*/%d" % len(recs)))
                if more:
                    status = 206
            elif t == "hdr_page":
                headers += [("X-Page", str(cur)), ("X-Per-Page", str(size)),
                            ("X-Next-Page", str(nxt) if more else "")]
        if c["records"] == "":
            doc = rows
        else:
            ptr_set(doc, c["records"], rows)
        return self.reply(status, doc, headers)


if __name__ == "__main__":
    from http.server import ThreadingHTTPServer
    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    srv.handle_error = lambda *a: None	# clients that hang up are not errors here
    with open(port_file + ".tmp", "w") as f:
        f.write(str(srv.server_port))
    import os
    os.rename(port_file + ".tmp", port_file)
    srv.serve_forever()
