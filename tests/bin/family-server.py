#!/usr/bin/env python3
"""A generated family of listings for tests (loopback only).

    family-server.py --port-file P

Each seed is a listing of its own, drawn at random from the seed: how many
records, the page size, where the records sit, and how the listing says
where the next page is -- a next URL (absolute, relative, in an object)
under any of many names and at any depth, an opaque token or a page
number under a name that says next, an RFC 8288 Link header, offset or
page parameters the request carries, a has_more flag with record ids, or
only a page size -- with totals (in the body under many names, or in a
header), continuation flags in either sense and page-size parameters
added at random.  Every page says, one way or another, that more follow.

    GET /f/SEED/meta    {"start": PATH, "n": N, "shape": {...}}
    GET /f/SEED/items…  the listing; ids 1..N

The server keeps no state: a position is in the URL.  What a client
sends that the listing does not use is ignored, as real APIs do.
"""
import base64, json, os, random, sys
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit, urlencode

MECHS = ["url_abs", "url_rel", "url_relpath", "url_obj", "token", "token_page", "link",
         "offset_req", "page_req", "keyset_flag", "size_only"]
URL_NAMES = ["next", "next_url", "nextUrl", "next_link", "nextLink", "next_page_url",
             "nextPageUrl", "next_href", "@odata.nextLink", "nextPage", "links_next", "NextURL"]
TOKEN_NAMES = ["next_cursor", "nextCursor", "next_token", "nextToken", "nextPageToken",
               "next_page_token", "next", "next_key", "nextMarker", "NextContinuation"]
CONTAINERS = [[], ["meta"], ["pagination"], ["meta", "paging"], ["links"],
              ["response_metadata"], ["page_info"], ["_meta", "cursors"]]
ARRAYS = ["data", "items", "results", "records", "entries", "hits", "objects", "list", "rows"]
TOTALS = ["total", "total_count", "totalCount", "count", "totalResults", "numFound",
          "found", "totalItems", "@odata.count", "header:X-Total-Count",
          "header:Content-Range"]
MORE_FLAGS = [("has_more", 1), ("hasMore", 1), ("more", 1), ("hasNextPage", 1),
              ("is_last", 0), ("isLast", 0), ("done", 0), ("last", 0), ("end", 0)]
SIZES = ["limit", "per_page", "pageSize", "page_size", "_limit", "size", "count", "top",
         "maxResults"]
OFFSETS = ["offset", "_start", "skip", "start", "from"]
PAGES = ["page", "_page", "pageNumber", "p"]
FAMILY = {"_limit": "_start", "limit": "offset", "top": "skip", "maxResults": "startIndex",
          "per_page": "page*", "pageSize": "page*", "page_size": "page*"}


def shape(seed):
    r = random.Random(seed)
    s = {"mech": r.choice(MECHS)}
    s["size"] = r.choice([1, 3, 7, 10, 25, 50])
    s["n"] = r.choice([0, 1, s["size"], 2 * s["size"], r.randint(2, 40 * s["size"])])
    s["n"] = min(s["n"], 400)
    s["array"] = r.choice(ARRAYS)
    s["nest"] = r.choice([[], [], ["response"], ["result", "page"]])
    s["container"] = r.choice(CONTAINERS)
    s["url_name"] = r.choice(URL_NAMES)
    s["token_name"] = r.choice(TOKEN_NAMES)
    # the parameter a token goes back in: usually the name without "next"
    derived = s["token_name"][4:].lstrip("_") or "cursor"
    derived = derived[0].lower() + derived[1:]
    s["token_param"] = derived if r.random() < 0.75 else r.choice(["cursor", "token", "after"])
    s["total"] = r.choice(TOTALS + [None, None])
    s["flag"] = r.choice(MORE_FLAGS + [None, None])
    s["size_param"] = r.choice(SIZES)
    s["offset_param"] = r.choice(OFFSETS)
    s["page_param"] = r.choice(PAGES)
    s["pos_param"] = r.choice(["pos", "after_n", "start_at", "o"])
    if s["mech"] == "size_only":
        s["size_param"] = r.choice(list(FAMILY))
        fam = FAMILY[s["size_param"]]
        s["total"] = r.choice([t for t in TOTALS if t != "count"])
        if fam == "page*":
            s["page_param"] = "page"
        else:
            s["offset_param"] = fam
    if s["mech"] in ("offset_req", "page_req", "keyset_flag") and s["total"] is None and \
            s["flag"] is None:
        s["flag"] = ("has_more", 1)	# the page must say that more follow
    if s["mech"] == "keyset_flag" and s["flag"] is None:
        s["flag"] = ("has_more", 1)
    s["root_array"] = (s["mech"] in ("link", "offset_req", "page_req", "size_only") and
                       s["total"] is not None and s["total"].startswith("header:") and
                       s["flag"] is None and r.random() < 0.5)
    return s


def start_path(seed, s):
    q = {s["size_param"]: s["size"]}
    if s["mech"] == "offset_req":
        q[s["offset_param"]] = 0
    elif s["mech"] == "page_req":
        q[s["page_param"]] = 1
    return "/f/%d/items?%s" % (seed, urlencode(q))


def put(obj, path, name, value):
    for k in path:
        obj = obj.setdefault(k, {})
    obj[name] = value


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def send(self, code, body, headers=()):
        out = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def do_GET(self):
        u = urlsplit(self.path)
        parts = u.path.split("/")
        if len(parts) < 4 or parts[1] != "f":
            return self.send(404, '{"error":"no such path"}')
        seed = int(parts[2])
        s = shape(seed)
        if parts[3] == "meta":
            return self.send(200, json.dumps({"start": start_path(seed, s), "n": s["n"],
                                              "shape": s}))
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        size = s["size"]
        if s["size_param"] in q:
            try:
                size = max(1, min(int(q[s["size_param"]]), 100))
            except ValueError:
                return self.send(400, '{"error":"bad size"}')
        off = 0
        m = s["mech"]
        try:
            if m.startswith("url") or m == "link":
                off = int(q.get(s["pos_param"], 0))
            elif m == "token":
                if s["token_param"] in q:
                    off = int(base64.urlsafe_b64decode(q[s["token_param"]][1:]).decode())
            elif m == "token_page":
                if s["token_param"] in q:
                    off = (int(q[s["token_param"]]) - 1) * size
            elif m == "offset_req" or (m == "size_only" and not FAMILY[s["size_param"]].startswith("page")):
                off = int(q.get(s["offset_param"], 0))
            elif m == "page_req" or m == "size_only":
                off = (int(q.get(s["page_param"], 1)) - 1) * size
            elif m == "keyset_flag":
                off = int(q.get("starting_after", 0))
        except (ValueError, TypeError):
            return self.send(400, '{"error":"bad position"}')
        n = s["n"]
        off = max(0, off)
        rows = [{"id": i, "name": "r%d" % i} for i in range(off + 1, min(off + size, n) + 1)]
        more = off + size < n
        nxt = off + size
        headers = []
        host = "http://%s" % self.headers.get("Host", "127.0.0.1")
        here = "/f/%d/items" % seed

        def link_to(extra):
            qq = dict(q)
            qq.update(extra)
            return "%s?%s" % (here, urlencode(qq))
        if s["root_array"]:
            body = rows
        else:
            body = {}
            put(body, s["nest"], s["array"], rows)
            cont = s["nest"] + s["container"]
            if m in ("url_abs", "url_rel", "url_relpath", "url_obj"):
                target = link_to({s["pos_param"]: nxt}) if more else None
                if target and m == "url_abs":
                    target = host + target
                elif target and m == "url_relpath":
                    target = target[len("/f/%d/" % seed):]	# "items?…", relative to the path
                if m == "url_obj":
                    put(body, cont, s["url_name"].replace("_url", "").replace("Url", "") or "next",
                        {"href": target})
                else:
                    put(body, cont, s["url_name"], target)
            elif m == "token":
                tok = "c" + base64.urlsafe_b64encode(str(nxt).encode()).decode()
                put(body, cont, s["token_name"], tok if more else None)
            elif m == "token_page":
                put(body, cont, s["token_name"], nxt // size + 1 if more else None)
            if s["total"] and not s["total"].startswith("header:"):
                put(body, cont, s["total"], n)
            if s["flag"]:
                name, sense = s["flag"]
                put(body, cont, name, more if sense else not more)
        if m == "link" and more:
            headers.append(("Link", '<%s%s>; rel="next"' % (host, link_to({s["pos_param"]: nxt}))))
        if s["total"] == "header:X-Total-Count":
            headers.append(("X-Total-Count", str(n)))
        elif s["total"] == "header:Content-Range":
            headers.append(("Content-Range", "items %d-%d/%d" % (off, off + len(rows), n)))
        self.send(200, json.dumps(body), headers)

    def log_message(self, *a):
        pass


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loopback import serve  # noqa: E402

serve(H, sys.argv[2])
