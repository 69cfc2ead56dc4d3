#!/usr/bin/env python3
"""Slow HTTP clients for the webhook-recv tests (loopback only).

    slow-clients.py PORT N SECONDS [INTERVAL]

Opens N connections to 127.0.0.1:PORT, sends the start of a POST, then
trickles one more header byte on each every INTERVAL seconds (default 1)
for SECONDS.  Prints how many connections were open at the end, how many
the server closed, and the longest time any lasted before being closed.
"""
import resource, select, socket, sys, time

port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
interval = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 64)), hard))
socks, opened = [], {}
for i in range(n):
    s = socket.socket()
    s.settimeout(10)
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        pass	# refused: it counts as closed below
    s.setblocking(False)
    socks.append(s)
start = time.time()
for s in socks:
    opened[s] = time.time()
    try:
        s.send(b"POST /hook HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    except OSError:
        pass
closed, longest = set(), 0.0
while time.time() - start < secs:
    for s in socks:
        if s in closed:
            continue
        try:
            s.send(b"a")
        except OSError:
            closed.add(s)
            longest = max(longest, time.time() - opened[s])
    poller = select.poll()
    byfd = {}
    for s in socks:
        if s not in closed:
            poller.register(s, select.POLLIN)
            byfd[s.fileno()] = s
    ready = poller.poll(interval * 1000)
    for fd, _ in ready:
        s = byfd[fd]
        try:
            if not s.recv(4096):
                closed.add(s)
                longest = max(longest, time.time() - opened[s])
        except OSError:
            closed.add(s)
            longest = max(longest, time.time() - opened[s])
print(n - len(closed), len(closed), "%.1f" % longest)
