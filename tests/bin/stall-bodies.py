#!/usr/bin/env python3
"""Clients that declare a body and stall part way, for webhook-recv's budget.

    stall-bodies.py PORT N BYTES [--per-address K] [--send-timeout S]
                    [--wait S] [--recv-timeout S] [--hold S]

Opens N connections to 127.0.0.1:PORT (with --per-address, K from each of
127.0.0.2, 127.0.0.3, ...), each a POST declaring a 1 MiB unsigned body of
which it sends BYTES, then stalls.  After --wait seconds it prints how many
were answered 503 (flushed), and keeps the connections --hold seconds more.
"""
import argparse, socket, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("n", type=int)
ap.add_argument("bytes", type=int)
ap.add_argument("--per-address", type=int, default=0)
ap.add_argument("--send-timeout", type=float, default=None)
ap.add_argument("--wait", type=float, default=1.5)
ap.add_argument("--recv-timeout", type=float, default=0.2)
ap.add_argument("--hold", type=float, default=4)
a = ap.parse_args()
socks, n503 = [], 0
for i in range(a.n):
    if a.per_address:
        s = socket.socket()
        s.bind(("127.0.0.%d" % (2 + i // a.per_address), 0))
        s.connect(("127.0.0.1", a.port))
    else:
        s = socket.create_connection(("127.0.0.1", a.port))
    s.sendall(b"POST /hook HTTP/1.1\r\nHost: x\r\nX-Sig: 00\r\nContent-Length: 1048576\r\n\r\n")
    try:
        s.settimeout(a.send_timeout)
        s.sendall(b"x" * a.bytes)
    except OSError:
        pass
    socks.append(s)
time.sleep(a.wait)
for s in socks:
    s.settimeout(a.recv_timeout)
    try:
        if b" 503 " in s.recv(200):
            n503 += 1
    except OSError:
        pass
print(n503)
sys.stdout.flush()
time.sleep(a.hold)
