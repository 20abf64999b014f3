"""Runs the dummy servers of CPython's own ftplib tests for the TypeScript client's tests.

The servers come unchanged from the Python installation's test.test_ftplib (Debian's
libpython3.11-testsuite): DummyFTPServer on IPv4 and IPv6, DummyTLS_FTPServer, and the
one-shot server of TestTimeouts. Nothing of that module is copied here.

Control channel: one JSON object a line. Requests come on stdin, each with an "id" and an "op";
each gets one answer on stdout with the same "id" and "ok" (and "error" when not ok). One server
runs at a time (the dummy servers share asyncore's socket map), on a port the OS picks. The
process ends when stdin closes.

  {"op": "start", "kind": "ftp" | "ftp6" | "tls" | "timeouts", "encoding": "utf-8"}
      -> {"host": ..., "port": ...}
  {"op": "get", "attr": "last_received_cmd"}        (of the server's handler_instance;
      -> {"value": ...}                               a dotted path reaches dtp.<name>)
  {"op": "set", "attr": "next_response", "value": "550 error on quit"}
  {"op": "wait", "timeout": 5}                        (TestTimeouts: waits for the server's event)
      -> {"value": true | false}
  {"op": "stop"}

Run with --check to learn whether the module can be imported: exit status 0 and a JSON line with
the module's constants and the names of its tests, or 1 and the reason.
"""
import json
import socket
import sys
import traceback
import unittest

# Only answers go to stdout; anything the test module prints goes to stderr.
OUT = sys.stdout
sys.stdout = sys.stderr

CLASSES = ("TestFTPClass", "TestIPv6Environment", "TestTLS_FTPClassMixin", "TestTLS_FTPClass", "TestTimeouts")


def emit(message):
    OUT.write(json.dumps(message) + "\n")
    OUT.flush()


def load():
    from test import test_ftplib

    return test_ftplib


def skip_reason(obj):
    return getattr(obj, "__unittest_skip_why__", None) if getattr(obj, "__unittest_skip__", False) else None


def describe(module):
    """What the TypeScript tests need to know of the module: its data, and its tests."""
    loader = unittest.TestLoader()
    classes = {}
    for name in CLASSES:
        cls = getattr(module, name)
        tests = loader.getTestCaseNames(cls)
        classes[name] = {
            "skip": skip_reason(cls),
            "tests": [{"name": test, "skip": skip_reason(getattr(cls, test))} for test in tests],
        }
    return {
        "module": module.__file__,
        "host": module.HOST,
        "hostv6": module.HOSTv6,
        "timeout": module.TIMEOUT,
        "encoding": module.DEFAULT_ENCODING,
        "ssl": module.ssl is not None,
        "certfile": getattr(module, "CERTFILE", None),
        "cafile": getattr(module, "CAFILE", None),
        "data": {name: getattr(module, name) for name in ("RETR_DATA", "LIST_DATA", "NLST_DATA", "MLSD_DATA")},
        "classes": classes,
    }


def jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return {"object": type(value).__name__}


class Launcher:
    def __init__(self, module):
        self.module = module
        self.server = None
        self.timeouts = None

    def handler(self):
        if self.server is None:
            raise RuntimeError("no dummy server is running")
        handler = self.server.handler_instance
        if handler is None:
            raise RuntimeError("the dummy server has not accepted a connection yet")
        return handler

    def op_start(self, kind, encoding=None):
        self.op_stop()
        m = self.module
        encoding = encoding or m.DEFAULT_ENCODING
        if kind == "ftp":
            self.server = m.DummyFTPServer((m.HOST, 0), encoding=encoding)
        elif kind == "ftp6":
            self.server = m.DummyFTPServer((m.HOSTv6, 0), af=socket.AF_INET6, encoding=encoding)
        elif kind == "tls":
            self.server = m.DummyTLS_FTPServer((m.HOST, 0), encoding=encoding)
        elif kind == "timeouts":
            # TestTimeouts' own fixture: its setUp binds a port and starts the one-shot server.
            self.timeouts = m.TestTimeouts("testTimeoutDefault")
            self.timeouts.setUp()
            return {"host": m.HOST, "port": self.timeouts.port}
        else:
            raise ValueError("unknown server kind %r" % kind)
        self.server.start()
        return {"host": self.server.host, "port": self.server.port}

    def op_get(self, attr):
        target = self.handler()
        for part in attr.split("."):
            target = getattr(target, part) if target is not None else None
        return {"value": jsonable(target)}

    def op_set(self, attr, value):
        *path, last = attr.split(".")
        target = self.handler()
        for part in path:
            target = getattr(target, part)
        setattr(target, last, value)
        return {}

    def op_wait(self, timeout=None):
        if self.timeouts is None:
            raise RuntimeError("the TestTimeouts server is not running")
        return {"value": self.timeouts.evt.wait(timeout)}

    def op_stop(self):
        # As the tests' tearDown methods do.
        if self.server is not None:
            server, self.server = self.server, None
            server.stop()
            self.module.asyncore.close_all(ignore_all=True)
        if self.timeouts is not None:
            timeouts, self.timeouts = self.timeouts, None
            timeouts.server_thread.join(1)
            if timeouts.server_thread.is_alive():
                # Nobody connected: one connection ends its accept() instead of its 20 s timeout.
                try:
                    socket.create_connection((self.module.HOST, timeouts.port), timeout=1).close()
                except OSError:
                    pass
            timeouts.tearDown()
        return {}


def main():
    try:
        module = load()
        info = describe(module)
    except BaseException as error:  # noqa: BLE001 -- any failure means: not usable here
        emit({"ok": False, "error": "%s: %s" % (type(error).__name__, error)})
        return 1
    if sys.argv[1:] == ["--check"]:
        emit({"ok": True, **info})
        return 0
    launcher = Launcher(module)
    emit({"ok": True, "ready": True})
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            request = json.loads(line)
            rid = request.pop("id", None)
            op = request.pop("op", None)
            try:
                method = getattr(launcher, "op_%s" % op, None)
                if method is None:
                    raise ValueError("unknown op %r" % op)
                emit({"id": rid, "ok": True, **method(**request)})
            except Exception as error:  # noqa: BLE001 -- reported to the caller
                traceback.print_exc()
                emit({"id": rid, "ok": False, "error": "%s: %s" % (type(error).__name__, error)})
    finally:
        launcher.op_stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
