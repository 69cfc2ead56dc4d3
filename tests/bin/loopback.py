"""What the tests' Python servers share: serve a handler on 127.0.0.1, on a
port the system picks, written to a file once it listens."""
import os
from http.server import ThreadingHTTPServer


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass	# a client killed mid-request (the tests do that on purpose)


def serve(handler, port_file):
    srv = Server(("127.0.0.1", 0), handler)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    srv.serve_forever()
