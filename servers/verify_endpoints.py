#!/usr/bin/env python3
"""Smoke-test every endpoint listed in .tmp/servers/endpoints.json (stdlib only).

usage: python3 servers/verify_endpoints.py [--json OUT] [--only NAME ...] [--no-curl]

Without --only it checks the core servers (scope "core" in endpoints.json); the interop-only ones
(aioftp, twisted, inetutils, nodeftpd, netkit) lack most of what it checks, and are covered by the
interop matrix instead.

Per endpoint:
  explicit  plain FTP login/PWD/FEAT/OPTS UTF8, then in PASSIVE and ACTIVE mode:
            MKD, CWD, STOR, APPE, SIZE (TYPE I and TYPE A), LIST, NLST, MLSD (if in FEAT),
            RETR (content compared), RNFR/RNTO, UTF-8 file name, DELE, RMD;
            EPSV on IPv4, PASV on IPv6 (recorded, not required);
            AUTH TLS + certificate check against ca.pem, PBSZ/PROT P, then passive+active
            LIST/STOR/RETR over TLS with TLS session reuse (and without reuse, to see
            which servers insist on it).
  implicit  TLS handshake first (verified against ca.pem), login, PWD, PROT P, passive+active
            STOR/RETR/LIST with session reuse.
  curl      (if available) `curl --ssl-reqd` listing for explicit and `ftps://` for implicit.
Exit status 0 when every required check passed.
"""

import argparse
import ftplib
import io
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ENDPOINTS = os.path.join(os.path.dirname(HERE), ".tmp", "servers", "endpoints.json")
TIMEOUT = 15


class ReuseFTP_TLS(ftplib.FTP_TLS):
    """FTP_TLS whose data connections resume the control connection's TLS session
    (vsftpd require_ssl_reuse=YES and proftpd mod_tls demand it)."""

    reuse = True

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            session = self.sock.session if self.reuse else None
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=session)
            conn.reused = conn.session_reused  # type: ignore[attr-defined]
            self.last_data_reused = conn.session_reused
        return conn, size


class ImplicitFTP_TLS(ReuseFTP_TLS):
    """Implicit FTPS: wrap the control socket as soon as it is connected."""

    def __init__(self, *a, **kw):
        self._sock = None
        super().__init__(*a, **kw)

    @property
    def sock(self):
        return self._sock

    @sock.setter
    def sock(self, value):
        if value is not None and not isinstance(value, ssl.SSLSocket):
            value = self.context.wrap_socket(value, server_hostname=self.host)
        self._sock = value


def tls_context(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = True
    return ctx


class Result:
    def __init__(self, server, ep):
        self.server = server
        self.ep = ep
        self.checks = []  # (name, ok, detail, required)
        self.quirks = {}

    def check(self, name, fn, required=True):
        t0 = time.time()
        try:
            detail = fn()
            ok = True
        except Exception as e:  # noqa: BLE001
            detail, ok = "%s: %s" % (type(e).__name__, e), False
        dt = time.time() - t0
        if dt > 2:
            self.quirks.setdefault("slow checks", []).append("%s: %.1fs" % (name, dt))
        self.checks.append((name, ok, detail if detail is not None else "", required))
        return ok

    @property
    def ok(self):
        return all(ok for _n, ok, _d, req in self.checks if req)


def data_ops(ftp, mode, res, tag, mlsd):
    """Directory + file round trip in the current data mode."""
    ftp.set_pasv(mode == "passive")
    d = "t-%s-%s" % (tag, uuid.uuid4().hex[:6])
    payload = (b"hello ftp\r\nline2\n" * 1000) + os.urandom(4096)
    pre = "%s %s " % (tag, mode)

    def mkd():
        r = ftp.sendcmd("MKD " + d)
        res.quirks.setdefault("MKD reply", r)
        return r

    res.check(pre + "MKD", mkd)
    res.check(pre + "CWD", lambda: ftp.cwd(d))
    res.check(pre + "STOR", lambda: ftp.storbinary("STOR f.bin", io.BytesIO(payload)))
    res.check(pre + "APPE", lambda: ftp.storbinary("APPE f.bin", io.BytesIO(b"tail")))

    def size_bin():
        ftp.voidcmd("TYPE I")
        s = ftp.size("f.bin")
        assert s == len(payload) + 4, "SIZE %r != %d" % (s, len(payload) + 4)
        return s

    res.check(pre + "SIZE (TYPE I)", size_bin)

    def size_ascii():
        ftp.voidcmd("TYPE A")
        try:
            r = ftp.sendcmd("SIZE f.bin")
        except ftplib.error_perm as e:
            r = str(e)
        finally:
            ftp.voidcmd("TYPE I")
        res.quirks.setdefault("SIZE in TYPE A", r)
        return r

    res.check(pre + "SIZE (TYPE A)", size_ascii, required=False)

    def retr():
        buf = io.BytesIO()
        ftp.retrbinary("RETR f.bin", buf.write)
        assert buf.getvalue() == payload + b"tail", "content mismatch (%d bytes)" % len(buf.getvalue())
        return "%d bytes" % len(buf.getvalue())

    res.check(pre + "RETR", retr)

    def listing():
        lines = []
        ftp.retrlines("LIST", lines.append)
        assert any("f.bin" in l for l in lines), lines
        return lines[0] if lines else ""

    res.check(pre + "LIST", listing)
    res.check(pre + "NLST", lambda: ftp.nlst())
    if mlsd:
        def mlsd_fn():
            entries = dict(ftp.mlsd())
            assert "f.bin" in entries, entries
            return entries["f.bin"]
        res.check(pre + "MLSD", mlsd_fn)
    res.check(pre + "RNFR/RNTO", lambda: ftp.rename("f.bin", "g.bin"))
    uname = "ünïcødé-ß-日本.txt"
    res.check(pre + "STOR utf8 name", lambda: ftp.storbinary("STOR " + uname, io.BytesIO(b"x")))

    def utf8_listed():
        names = ftp.nlst()
        assert any(uname in n for n in names), names
        return "ok"

    res.check(pre + "NLST shows utf8 name", utf8_listed)
    res.check(pre + "DELE", lambda: (ftp.delete("g.bin"), ftp.delete(uname))[0])
    res.check(pre + "CDUP", lambda: ftp.cwd(".."))
    res.check(pre + "RMD", lambda: ftp.rmd(d))


def feat(ftp):
    try:
        r = ftp.sendcmd("FEAT")
    except ftplib.error_perm:
        return []
    return [l.strip() for l in r.splitlines()[1:-1]]


def verify_explicit(server, ep, ca, curl):
    res = Result(server, ep)
    host, port = ep["host"], ep["port"]
    ftp = ftplib.FTP(encoding="utf-8", timeout=TIMEOUT)
    if not res.check("connect", lambda: ftp.connect(host, port)):
        return res
    res.quirks["greeting"] = ftp.welcome
    res.check("login", lambda: ftp.login(server["user"], server["password"]))
    res.check("PWD", lambda: ftp.pwd())
    feats = feat(ftp)
    res.quirks["FEAT"] = feats
    has_mlsd = any(f.upper().startswith("MLST") for f in feats)

    def opts():
        return ftp.sendcmd("OPTS UTF8 ON")

    res.check("OPTS UTF8 ON", opts, required=False)
    res.quirks["OPTS UTF8 ON"] = res.checks[-1][2]
    for mode in ("passive", "active"):
        data_ops(ftp, mode, res, "plain", has_mlsd)

    # extended passive on IPv4 / classic PASV on IPv6
    if ep["family"] == 4:
        def pasv_addr():
            r = ftp.sendcmd("PASV")
            nums = r[r.index("(") + 1:r.index(")")].split(",")
            addr = ".".join(nums[:4])
            assert addr == "127.0.0.1", "PASV advertises %s" % addr
            # consume: connect+close by issuing ABOR-free NOOP after opening/closing
            s = socket.create_connection((host, int(nums[4]) * 256 + int(nums[5])), timeout=TIMEOUT)
            s.close()
            return r

        res.check("PASV advertises 127.0.0.1", pasv_addr)
        ftp.close()
        ftp = ftplib.FTP(encoding="utf-8", timeout=TIMEOUT)
        ftp.connect(host, port)
        ftp.login(server["user"], server["password"])

        def epsv_v4():
            r = ftp.sendcmd("EPSV")
            p = int(r.split("|")[3])
            s = socket.create_connection((host, p), timeout=TIMEOUT)
            ftp.sendcmd("TYPE A")
            ftp.putcmd("NLST")
            rep = ftp.getresp()
            data = s.recv(65536)
            s.close()
            ftp.voidresp()
            return r + " / " + rep

        res.check("EPSV on IPv4 (+NLST)", epsv_v4, required=False)
    else:
        def pasv_v6():
            try:
                return ftp.sendcmd("PASV")
            except ftplib.Error as e:
                return "refused: %s" % e
        res.check("PASV on IPv6 (info)", pasv_v6, required=False)
        res.quirks["PASV on IPv6"] = res.checks[-1][2]
    quit_or_close(ftp)

    # ---- explicit TLS
    ctx = tls_context(ca)
    tftp = ReuseFTP_TLS(context=ctx, encoding="utf-8", timeout=TIMEOUT)
    res.check("TLS connect", lambda: tftp.connect(host, port))

    def auth():
        r = tftp.auth()
        return "%s; %s %s; cert verified" % (r, tftp.sock.version(), tftp.sock.cipher()[0])

    if res.check("AUTH TLS (cert verified vs ca.pem)", auth):
        res.quirks["TLS version"] = tftp.sock.version()
        tls_session(tftp, res, "tls", "TLS ")
    if curl:
        curl_check(res, ["--ssl-reqd", "ftp://%s/" % fmt_host(host, port)], ca, server)
        curl_check(res, ["ftp://%s/" % fmt_host(host, port)], ca, server, tag="curl plain LIST")
    return res


def quit_or_close(ftp):
    try:
        ftp.quit()
    except Exception:  # noqa: BLE001
        ftp.close()


def tls_session(tftp, res, tag, prefix=""):
    """Login, PWD and PROT P on a TLS control connection, the TLS data checks, then QUIT."""
    res.check(prefix + "login", lambda: tftp.login(res.server["user"], res.server["password"]))
    res.check(prefix + "PWD", lambda: tftp.pwd())
    res.check("PBSZ 0 / PROT P", lambda: tftp.prot_p())
    tls_data(tftp, res, tag)
    quit_or_close(tftp)


def tls_data(tftp, res, tag):
    for mode in ("passive", "active"):
        tftp.set_pasv(mode == "passive")
        name = "tls-%s.bin" % uuid.uuid4().hex[:6]
        payload = os.urandom(200000)

        def stor():
            tftp.storbinary("STOR " + name, io.BytesIO(payload))
            return "session reused=%s" % tftp.last_data_reused

        def retr():
            buf = io.BytesIO()
            tftp.retrbinary("RETR " + name, buf.write)
            assert buf.getvalue() == payload
            return "session reused=%s" % tftp.last_data_reused

        def lst():
            lines = []
            tftp.retrlines("LIST", lines.append)
            assert any(name in l for l in lines)
            return "%d lines, reused=%s" % (len(lines), tftp.last_data_reused)

        res.check("%s %s STOR (reuse)" % (tag, mode), stor)
        res.check("%s %s RETR (reuse)" % (tag, mode), retr)
        res.check("%s %s LIST (reuse)" % (tag, mode), lst)
        res.check("%s %s DELE" % (tag, mode), lambda: tftp.delete(name))

    # without session reuse: informational (shows whether the server insists on reuse);
    # run last: vsftpd drops the whole control connection after its 522.
    tftp.set_pasv(True)
    tftp.storbinary("STOR noreuse.txt", io.BytesIO(b"x"))
    tftp.reuse = False

    def no_reuse():
        lines = []
        try:
            tftp.retrlines("NLST", lines.append)
            return "accepted without reuse"
        except ftplib.Error as e:
            return "refused without reuse: %s" % str(e).strip()[:120]
        except (ssl.SSLError, OSError) as e:
            return "TLS error without reuse: %s" % str(e).strip()[:120]
        finally:
            tftp.reuse = True

    res.check("%s passive NLST WITHOUT reuse (info)" % tag, no_reuse, required=False)
    res.quirks["%s data without session reuse" % tag] = res.checks[-1][2]
    try:
        tftp.delete("noreuse.txt")
        res.quirks["%s control connection after refused no-reuse transfer" % tag] = "still usable"
    except (ftplib.Error, EOFError, OSError) as e:
        res.quirks["%s control connection after refused no-reuse transfer" % tag] = "closed by server (%s)" % type(e).__name__
        cleanup = type(tftp)(context=tftp.context, timeout=TIMEOUT)
        cleanup.connect(tftp.host, tftp.port)
        cleanup.login(res.server["user"], res.server["password"])
        cleanup.delete("noreuse.txt")
        cleanup.quit()


def verify_implicit(server, ep, ca, curl):
    res = Result(server, ep)
    host, port = ep["host"], ep["port"]
    ctx = tls_context(ca)
    ftp = ImplicitFTP_TLS(context=ctx, encoding="utf-8", timeout=TIMEOUT)

    def conn():
        w = ftp.connect(host, port)
        res.quirks["TLS version"] = ftp.sock.version()
        return "%s; %s" % (w, ftp.sock.version())

    if not res.check("implicit TLS connect (cert verified)", conn):
        return res
    tls_session(ftp, res, "implicit")
    if curl:
        curl_check(res, ["ftps://%s/" % fmt_host(host, port)], ca, server)
    return res


def fmt_host(host, port):
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def curl_check(res, args, ca, server, tag=None):
    name = tag or ("curl " + " ".join(a for a in args if a.startswith("--")) + " LIST").replace("  ", " ")

    def run():
        cmd = ["curl", "-sS", "--max-time", "20", "--cacert", ca, "-u",
               "%s:%s" % (server["user"], server["password"])] + args
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, "rc=%d %s" % (p.returncode, p.stderr.strip())
        return "ok"

    res.check(name, run)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoints", default=ENDPOINTS)
    ap.add_argument("--json")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--no-curl", action="store_true")
    args = ap.parse_args()
    with open(args.endpoints) as fh:
        doc = json.load(fh)
    curl = not args.no_curl and shutil.which("curl") is not None
    results = []
    for server in doc["servers"]:
        if args.only and server["name"] not in args.only:
            continue
        # the interop-only servers (aioftp, twisted, ...) lack what this test checks (TLS, SIZE, ...)
        if not args.only and server.get("scope", "core") != "core":
            continue
        for ep in server["endpoints"]:
            t0 = time.time()
            fn = verify_implicit if ep["tls"] == "implicit" else verify_explicit
            res = fn(server, ep, server["ca"], curl)
            results.append(res)
            failed = [c for c in res.checks if not c[1]]
            print("%-10s %-9s [%s]:%d  %s  (%d checks, %d failed, %.1fs)" % (
                server["name"], ep["tls"], ep["host"], ep["port"], "OK " if res.ok else "FAIL",
                len(res.checks), len(failed), time.time() - t0))
            for n, ok, d, req in failed:
                print("    %s %s: %s" % ("FAIL" if req else "info", n, d))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([{
                "server": r.server["name"], "host": r.ep["host"], "port": r.ep["port"], "tls": r.ep["tls"],
                "ok": r.ok, "quirks": r.quirks,
                "checks": [{"name": n, "ok": ok, "detail": str(d)[:300], "required": req} for n, ok, d, req in r.checks],
            } for r in results], fh, indent=2, ensure_ascii=False)
    bad = [r for r in results if not r.ok]
    print("%d passed, %d failed" % (len(results) - len(bad), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
