"""Python's ftplib in the slow-link bench (../slow-link.mjs), as its documentation shows.

python3 slow-link-python-ftplib.py <scenario> <json config> prints one JSON line: { ns, bytes, items }
(login before the clock starts, as for the Node contenders).
"""
import ftplib
import json
import os
import sys
import time


def small(ftp, c):
    for remote, local in c["files"]:
        with open(local, "wb") as f:
            ftp.retrbinary("RETR " + remote, f.write)
    return {"bytes": sum(os.path.getsize(local) for _, local in c["files"]), "items": len(c["files"])}


def upload(ftp, c):
    for remote, local in c["files"]:
        with open(local, "rb") as f:
            ftp.storbinary("STOR " + remote, f)
    return {"bytes": sum(os.path.getsize(local) for _, local in c["files"]), "items": len(c["files"])}


def listing(ftp, c):
    return {"items": sum(1 for name, facts in ftp.mlsd(c["remote"]) if facts.get("type") not in ("cdir", "pdir"))}


SCENARIOS = {"small": small, "upload": upload, "listing": listing}


def main():
    scenario, config = sys.argv[1], json.loads(sys.argv[2])
    ftp = ftplib.FTP()
    ftp.connect(config["host"], config["port"])
    ftp.login(config["user"], config["password"])
    started = time.perf_counter_ns()
    result = SCENARIOS[scenario](ftp, config)
    ns = time.perf_counter_ns() - started
    ftp.quit()
    print(json.dumps({"ns": ns, **result}))


main()
