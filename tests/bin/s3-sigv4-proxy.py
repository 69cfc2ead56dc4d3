#!/usr/bin/python3
"""A proxy in front of an S3 server that checks every request's AWS
Signature Version 4 with botocore before passing it on.

  s3-sigv4-proxy.py UPSTREAM_PORT LOG KEY_ID:SECRET... [--clock-offset S]
                    [--fail-first N] [--slow-parts S] [--deny-part N]

Listens on 127.0.0.1 (port 0; the port is printed on the first line of
standard output), recomputes each request's signature with botocore's
S3SigV4Auth from the secret of the key id it names, checks that the
x-amz-content-sha256 the signature covers is the SHA-256 of the body
received, and refuses a mismatch (403 SignatureDoesNotMatch), an unknown
key id (403 InvalidAccessKeyId) or a date more than 15 minutes from its
clock (403 RequestTimeTooSkewed; --clock-offset moves its clock).  The
first N requests (--fail-first) get 503 SlowDown; each part of a multipart
upload waits S seconds (--slow-parts); part N is refused (--deny-part, 403
AccessDenied).  Every request is logged
to LOG as one JSON line: method, path, outcome.
"""
import hashlib
import http.client
import http.server
import json
import socketserver
import sys
import threading
import time
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

args = sys.argv[1:]
upstream = int(args.pop(0))
logpath = args.pop(0)
keys, offset, fail_first, slow_parts, deny_part = {}, 0.0, 0, 0.0, None
while args:
    a = args.pop(0)
    if a == "--clock-offset":
        offset = float(args.pop(0))
    elif a == "--fail-first":
        fail_first = int(args.pop(0))
    elif a == "--slow-parts":
        slow_parts = float(args.pop(0))
    elif a == "--deny-part":
        deny_part = args.pop(0)
    else:
        k, s = a.split(":", 1)
        keys[k] = s
lock = threading.Lock()
count = [0]


def log(entry):
    with lock:
        with open(logpath, "a") as f:
            f.write(json.dumps(entry) + "\n")


def error_xml(code, message):
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code>"
            "<Message>%s</Message></Error>" % (code, message)).encode()


def verify(method, path, headers, body):
    """None when the request is signed right, else (code, message)."""
    auth = headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return ("AccessDenied", "the request is not signed with AWS4-HMAC-SHA256")
    parts = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    key_id, date, region, service, term = parts["Credential"].split("/")
    if key_id not in keys:
        return ("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
    amzdate = headers.get("X-Amz-Date", "")
    when = datetime.strptime(amzdate, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc).timestamp()
    if abs(time.time() + offset - when) > 900:
        return ("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
    claimed = headers.get("x-amz-content-sha256", "")
    if claimed != "UNSIGNED-PAYLOAD" and claimed != hashlib.sha256(body).hexdigest():
        return ("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
    signed = parts["SignedHeaders"].split(";")
    hdrs = {}
    for name in signed:
        if name == "host":
            continue
        if headers.get(name) is None:
            return ("SignatureDoesNotMatch", "signed header %s is missing" % name)
        hdrs[name] = headers.get(name)
    req = AWSRequest(method=method, url="http://%s%s" % (headers.get("Host"), path),
                     headers=hdrs, data=body)
    req.context["timestamp"] = amzdate
    signer = S3SigV4Auth(Credentials(key_id, keys[key_id]), service, region)
    if signer.signed_headers(signer.headers_to_sign(req)) != parts["SignedHeaders"]:
        return ("SignatureDoesNotMatch", "the signed headers differ")
    cr = signer.canonical_request(req)
    sig = signer.signature(signer.string_to_sign(req, cr), req)
    if sig != parts["Signature"]:
        return ("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        with lock:
            count[0] += 1
            nth = count[0]
        entry = {"method": self.command, "path": urlsplit(self.path).path,
                 "query": urlsplit(self.path).query}
        try:
            bad = verify(self.command, self.path, self.headers, body)
        except Exception as ex:  # a malformed Authorization header
            bad = ("AccessDenied", "malformed authorization: %s" % ex)
        if bad is None and nth <= fail_first:
            bad = ("SlowDown", "Please reduce your request rate.")
        part = parse_qs(urlsplit(self.path).query).get("partNumber", [None])[0]
        if bad is None and part is not None and part == deny_part:
            bad = ("AccessDenied", "Access Denied")
        if part is not None and slow_parts:
            time.sleep(slow_parts)
        if bad is not None:
            entry["outcome"] = bad[0]
            log(entry)
            out = error_xml(*bad)
            self.send_response(503 if bad[0] == "SlowDown" else 403)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            return
        entry["outcome"] = "verified"
        if self.headers.get("x-amz-security-token") is not None:
            signed = self.headers.get("Authorization", "").split("SignedHeaders=")[-1].split(",")[0]
            entry["token_signed"] = "x-amz-security-token" in signed.split(";")
        log(entry)
        c = http.client.HTTPConnection("127.0.0.1", upstream, timeout=60)
        fwd = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "expect")}
        c.request(self.command, self.path, body=body if (n or self.command in ("PUT", "POST")) else None,
                  headers=fwd)
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        c.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    def log_message(self, *a):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
print(srv.server_port, flush=True)
srv.serve_forever()
