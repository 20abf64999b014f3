"""Python's ftplib, used as its documentation shows (default block sizes).

python3 python-ftplib.py <scenario> <json config> prints one JSON line like the Node contenders.
"""
import ftplib
import json
import os
import ssl
import sys
import time


def open_ftp(c, secure=False):
    if secure:
        ftp = ftplib.FTP_TLS(context=ssl.create_default_context(cadata=c["ca"]))
    else:
        ftp = ftplib.FTP()
    ftp.connect(c["host"], c["port"])
    ftp.login(c["user"], c["password"])
    if secure:
        ftp.prot_p()
    return ftp


def retrieve(ftp, remote):
    size = [0]

    def count(block):
        size[0] += len(block)

    ftp.retrbinary("RETR " + remote, count)
    return size[0]


def download(ftp, c):
    return {"bytes": retrieve(ftp, c["remote"])}


def download_file(ftp, c):
    with open(c["local"], "wb") as f:
        ftp.retrbinary("RETR " + c["remote"], f.write)
    return {"bytes": os.path.getsize(c["local"])}


def upload(ftp, c):
    with open(c["local"], "rb") as f:
        ftp.storbinary("STOR " + c["remote"], f)
    return {"bytes": os.path.getsize(c["local"])}


def small(ftp, c):
    return {"bytes": sum(retrieve(ftp, remote) for remote in c["files"]), "items": len(c["files"])}


def mlsd(ftp, c):
    return {"items": sum(1 for name, _ in ftp.mlsd(c["remote"]) if name not in (".", ".."))}


def list_lines(ftp, c):
    # ftplib does not parse LIST: the lines are what a caller gets.
    lines = [0]

    def count(line):
        lines[0] += 1

    ftp.retrlines("LIST " + c["remote"], count)
    return {"items": lines[0]}


SCENARIOS = {
    "download": (download, False),
    "ftps-download": (download, True),
    "download-file": (download_file, False),
    "upload": (upload, False),
    "small": (small, False),
    "mlsd": (mlsd, False),
    "list": (list_lines, False),
}


def peak_rss():
    # VmHWM, not getrusage's maxrss: Linux carries that over from the parent across exec.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def machine_ticks():
    """Busy and total jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    return sum(fields) - fields[3] - fields[4], sum(fields)


def main():
    name, config = sys.argv[1], json.loads(sys.argv[2])
    scenario, secure = SCENARIOS[name]
    ftp = open_ftp(config, secure)
    before = rss()
    ticks_before = machine_ticks()
    cpu_before = time.process_time_ns()
    started = time.perf_counter_ns()
    result = scenario(ftp, config)
    ns = time.perf_counter_ns() - started
    cpu_ns = time.process_time_ns() - cpu_before
    ticks = machine_ticks()
    peak = peak_rss()
    ftp.close()
    cores = (ticks[0] - ticks_before[0]) / max(1, ticks[1] - ticks_before[1]) * os.cpu_count()
    result.update(ns=ns, rssGrowth=max(0, peak - before), cpuNs=cpu_ns, machineCores=cores)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
