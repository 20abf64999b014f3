#!/usr/bin/python3
"""pyftpdlib launcher used by servers/servers.sh (run with Debian's /usr/bin/python3
and the python3-pyftpdlib + python3-openssl packages).

One process serves every listener given with --listen HOST:PORT:MODE, where
MODE is "explicit" (plain FTP, AUTH TLS optional) or "implicit" (TLS from the
first byte).  All listeners share one IOLoop, one authorizer and one passive
port range.

Users (virtual, in memory, DummyAuthorizer):
  <--user>/<--password>  full rights (elradfmwMT) on --root
  anonymous              read-only (elr) on --root
"""

import argparse
import logging
import os
import sys

from pyftpdlib import handlers as _handlers
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import TLS_FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.log import logger
from pyftpdlib.servers import FTPServer


# --- Backports of upstream pyftpdlib fixes missing from Debian's 1.5.7 --------------
# Only fixes of the server's own health are backported (below, in main). Debian's 1.5.7 also
# resets a TLS data connection whose ClientHello arrives before its 150 reply (upstream
# #604/#612); that one is left as it is, because clients meet it in the wild: the client
# under test must cope (it starts the handshake after the 1xx).


def parse_listen(value):
    # HOST:PORT:MODE where HOST may itself contain colons (IPv6), e.g. ::1:21521:explicit
    host, port, mode = value.rsplit(":", 2)
    host = host.strip("[]")
    if mode not in ("explicit", "implicit"):
        raise argparse.ArgumentTypeError("mode must be explicit or implicit: %r" % value)
    return host, int(port), mode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", action="append", type=parse_listen, required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--passive", required=True, help="FIRST-LAST")
    ap.add_argument("--pidfile")
    args = ap.parse_args()

    logging.basicConfig(
        level=logging.INFO,
        format="[%(asctime)s] %(levelname)s %(message)s",
        stream=sys.stderr,
    )

    for host, _port, _mode in args.listen:
        if host not in ("127.0.0.1", "::1", "localhost"):
            sys.exit("refusing to listen on non-loopback address %r" % host)

    authorizer = DummyAuthorizer()
    authorizer.add_user(args.user, args.password, args.root, perm="elradfmwMT")
    authorizer.add_anonymous(args.root, perm="elr")

    first, last = (int(x) for x in args.passive.split("-"))

    class ExplicitHandler(TLS_FTPHandler):
        """Plain FTP; AUTH TLS offered, never required."""

        # upstream #613: close both bases, otherwise a TLS disconnect can spin at 100% CPU
        def close(self):
            _handlers.SSLConnection.close(self)
            _handlers.FTPHandler.close(self)

        # upstream #683: no reply can be sent while the TLS handshake is pending
        def handle_timeout(self):
            if self._ssl_accepting:
                logger.info("SSL handshake timeout")
                self.close()
            else:
                super().handle_timeout()

    ExplicitHandler.authorizer = authorizer
    ExplicitHandler.certfile = args.cert
    ExplicitHandler.keyfile = args.key
    ExplicitHandler.tls_control_required = False
    ExplicitHandler.tls_data_required = False
    ExplicitHandler.passive_ports = range(first, last + 1)
    ExplicitHandler.timeout = 600
    ExplicitHandler.permit_foreign_addresses = False  # active mode: only back to the client's own address
    ExplicitHandler.permit_privileged_ports = False

    class ImplicitHandler(ExplicitHandler):
        """Implicit FTPS: TLS handshake first, then the 220 greeting."""

        def handle(self):
            self.secure_connection(self.ssl_context)

        def handle_ssl_established(self):
            ExplicitHandler.handle(self)

        def ftp_AUTH(self, line):
            self.respond("503 Already using TLS (implicit FTPS).")

    ioloop = IOLoop.instance()
    servers = []
    for host, port, mode in args.listen:
        handler = ImplicitHandler if mode == "implicit" else ExplicitHandler
        srv = FTPServer((host, port), handler, ioloop=ioloop)
        srv.max_cons = 512
        srv.max_cons_per_ip = 512
        servers.append(srv)
        logging.info("listening on [%s]:%d (%s TLS)", host, port, mode)

    if args.pidfile:
        with open(args.pidfile, "w") as fh:
            fh.write("%d\n" % os.getpid())

    # serves every FTPServer registered on the shared IOLoop; SIGTERM ends the process
    servers[0].serve_forever(handle_exit=True)


if __name__ == "__main__":
    main()
