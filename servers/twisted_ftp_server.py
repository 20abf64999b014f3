#!/usr/bin/python3
"""Twisted FTP server launcher used by servers/servers.sh (run with Debian's /usr/bin/python3 and
the python3-twisted package): twisted.protocols.ftp behind a twisted.cred portal.

One process serves every --listen HOST:PORT (loopback only). One user, --user/--password, checked
by the credentials checker below; its home, --root, is shown as "/" and is writable. No anonymous
login. Passive sockets bind the control connection's local address and take their ports from
--passive FIRST-LAST (Twisted's default would bind every interface, on any port).
"""

import argparse
import hmac
import sys

from twisted.cred import checkers, credentials, error as cred_error
from twisted.cred.portal import Portal
from twisted.internet import defer, reactor
from twisted.protocols import ftp
from twisted.python import filepath, log
from zope.interface import implementer

LOOPBACK = ("127.0.0.1", "::1")


@implementer(checkers.ICredentialsChecker)
class OneUserChecker:
    """Accepts one user name with one password (constant-time comparison)."""

    credentialInterfaces = (credentials.IUsernamePassword,)

    def __init__(self, user, password):
        self.user = user.encode()
        self.password = password.encode()

    def requestAvatarId(self, creds):
        user, password = (v.encode() if isinstance(v, str) else v for v in (creds.username, creds.password))
        user_ok = hmac.compare_digest(user, self.user)
        password_ok = hmac.compare_digest(password, self.password)
        if user_ok and password_ok:
            return defer.succeed(user.decode())
        return defer.fail(cred_error.UnauthorizedLogin())


class OneRootRealm(ftp.BaseFTPRealm):
    """Every authenticated user gets --root, writable."""

    def __init__(self, root):
        super().__init__(root)
        self.root = filepath.FilePath(root)

    def getHomeDirectory(self, avatarId):
        return self.root


class LoopbackFTP(ftp.FTP):
    """Passive data sockets on the control connection's own address."""

    def listenFactory(self, port, factory):
        return reactor.listenTCP(port, factory, interface=self.transport.getHost().host)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", action="append", required=True, help="HOST:PORT")
    ap.add_argument("--root", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--passive", required=True, help="FIRST-LAST")
    args = ap.parse_args()
    listens = []
    for value in args.listen:
        host, port = value.rsplit(":", 1)
        host = host.strip("[]")
        if host not in LOOPBACK:
            sys.exit("refusing to listen on non-loopback address %r" % host)
        listens.append((host, int(port)))
    first, last = (int(x) for x in args.passive.split("-"))

    log.startLogging(sys.stderr)
    portal = Portal(OneRootRealm(args.root), [OneUserChecker(args.user, args.password)])
    factory = ftp.FTPFactory(portal)
    factory.protocol = LoopbackFTP
    factory.allowAnonymous = False
    factory.timeOut = 600
    factory.passivePortRange = range(first, last + 1)
    for host, port in listens:
        reactor.listenTCP(port, factory, interface=host)
    reactor.run()


if __name__ == "__main__":
    main()
