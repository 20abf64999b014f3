#!/usr/bin/python3
"""aioftp launcher used by servers/servers.sh (run with Debian's /usr/bin/python3 and the
python3-aioftp package).

One process, one asyncio loop, one aioftp.Server per --listen HOST:PORT:MODE, where MODE is
"plain" (no TLS at all: aioftp has no AUTH TLS) or "implicit" (TLS from the first byte, with
aioftp's ssl= option; data connections are TLS too). Passive sockets bind the control
connection's local address; plain and implicit listeners take their passive ports from the
ranges given with --passive-plain and --passive-implicit.

One user, --user/--password, full rights on --root (shown as "/"). No anonymous login.
"""

import argparse
import asyncio
import logging
import pathlib
import ssl
import sys

import aioftp

LOOPBACK = ("127.0.0.1", "::1")


def parse_listen(value):
    # HOST:PORT:MODE where HOST may itself contain colons (IPv6), e.g. ::1:25021:plain
    host, port, mode = value.rsplit(":", 2)
    host = host.strip("[]")
    if mode not in ("plain", "implicit"):
        raise argparse.ArgumentTypeError("mode must be plain or implicit: %r" % value)
    return host, int(port), mode


def parse_range(value):
    first, last = (int(x) for x in value.split("-"))
    return range(first, last + 1)


async def serve(args):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    user = aioftp.User(
        args.user,
        args.password,
        base_path=pathlib.Path(args.root),
        home_path=pathlib.PurePosixPath("/"),
        permissions=[aioftp.Permission("/", readable=True, writable=True)],
    )
    servers = []
    for host, port, mode in args.listen:
        server = aioftp.Server(
            [user],
            data_ports=args.passive_implicit if mode == "implicit" else args.passive_plain,
            ssl=context if mode == "implicit" else None,
            idle_timeout=600,
            # no socket_timeout: with it, every data write runs under asyncio.wait_for, and on
            # Python 3.11 an ABOR's cancellation of the transfer is then lost (no 426, no 226,
            # the file is sent to the end)
            # aioftp waits this long for the data connection before it answers 425
            wait_future_timeout=15,
        )
        await server.start(host, port)
        servers.append(server)
        logging.info("listening on [%s]:%d (%s)", host, port, mode)
    await asyncio.gather(*(server.serve_forever() for server in servers))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", action="append", type=parse_listen, required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--passive-plain", type=parse_range, required=True, help="FIRST-LAST")
    ap.add_argument("--passive-implicit", type=parse_range, required=True, help="FIRST-LAST")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(levelname)s %(message)s", stream=sys.stderr)
    for host, _port, _mode in args.listen:
        if host not in LOOPBACK:
            sys.exit("refusing to listen on non-loopback address %r" % host)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
