// A vsftpd of its own for one test or bench: the binary servers/servers.sh unpacked, with a config
// generated here (its own port, passive range, client limits and data root under `scratch`), so
// that a run needing 1,000 sessions from one address never touches the shared servers. It reuses
// what servers.sh installed: the PAM service of this checkout's .tmp/servers (pam_pwdfile, user
// ftptest), the ftptest system account vsftpd maps that user to, and the test certificate.
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
  chownSync,
} from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./index.js";

const serversDir = fileURLToPath(new URL("../../.tmp/servers/", import.meta.url));
const USER = "ftptest";
const PASSWORD = "ftptest-pass";

/** Why this machine cannot run it, or undefined when it can. */
function missing(base) {
  if (process.getuid?.() !== 0) return "vsftpd needs root (PAM, chroot)";
  if (!existsSync(join(base, "pkgs/vsftpd/usr/sbin/vsftpd"))) return "vsftpd is not unpacked (servers.sh install)";
  if (!existsSync(join(base, "tls/server.pem"))) return "no test certificate (servers.sh start vsftpd)";
  if (pamService(base) === undefined) return "no vsftpd PAM service for this checkout (servers.sh start vsftpd)";
  const account = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((line) => line.startsWith(`${USER}:`));
  if (account === undefined) return `no system account ${USER} (servers.sh start vsftpd)`;
  if (!existsSync(account.split(":")[5] ?? "")) return `the home of ${USER} is missing (servers.sh start vsftpd)`;
  return undefined;
}

/** The PAM service servers.sh wrote for this .tmp/servers: the one whose pwdfile lives there. */
function pamService(base) {
  const passwd = join(base, "conf/vsftpd/passwd");
  if (!existsSync(passwd)) return undefined;
  return readdirSync("/etc/pam.d")
    .filter((name) => name.startsWith("vsftpd-ftptest-"))
    .find((name) => readFileSync(join("/etc/pam.d", name), "utf8").includes(`pwdfile=${passwd}\n`));
}

/** The processes below `pid` (vsftpd's sessions each call setsid(): they leave its process group). */
function descendants(pid) {
  const children = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "latin1");
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid ...: comm may hold spaces, so split after its closing parenthesis.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const found = [];
  const visit = (p) => {
    for (const child of children.get(p) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(pid);
  return found;
}

/** Resolves once the server's greeting arrives on `port`. */
async function greeting(port, deadline) {
  for (;;) {
    const ok = await new Promise((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.setTimeout(1000);
      socket.once("data", (data) => {
        socket.destroy();
        resolve(data.toString("latin1").startsWith("220"));
      });
      for (const event of ["error", "timeout", "close"]) socket.once(event, () => (socket.destroy(), resolve(false)));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`vsftpd did not greet on port ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts the server; rejects with the reason when this machine cannot run it (not root, servers.sh
 * not installed). `passive` is the passive port range; `maxClients` bounds sessions, all from one
 * address.
 */
export async function startDedicatedVsftpd({ scratch, passive, maxClients = 2000 }) {
  const base = realpathSync(serversDir, { throwIfNoEntry: false }) ?? serversDir;
  const reason = existsSync(base) ? missing(base) : "servers.sh has not run in this checkout";
  if (reason !== undefined) throw new Error(reason);
  const root = join(scratch, "data");
  const empty = join(scratch, "empty");
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(root, { recursive: true, mode: 0o777 });
  mkdirSync(empty, { mode: 0o555 });
  const [uid, gid] = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((line) => line.startsWith(`${USER}:`))
    .split(":")
    .slice(2, 4)
    .map(Number);
  chownSync(root, uid, gid);
  const port = await freePort("127.0.0.1");
  const config = join(scratch, "vsftpd.conf");
  const tls = join(base, "tls");
  writeFileSync(
    config,
    [
      "listen=YES",
      "listen_ipv6=NO",
      "listen_address=127.0.0.1",
      `listen_port=${port}`,
      "background=NO",
      "anonymous_enable=NO",
      "local_enable=YES",
      "guest_enable=YES",
      `guest_username=${USER}`,
      "virtual_use_local_privs=YES",
      `pam_service_name=${pamService(base)}`,
      `local_root=${root}`,
      "chroot_local_user=YES",
      "allow_writeable_chroot=YES",
      `secure_chroot_dir=${empty}`,
      "write_enable=YES",
      "local_umask=022",
      "dirmessage_enable=NO",
      "pasv_enable=YES",
      `pasv_min_port=${passive[0]}`,
      `pasv_max_port=${passive[1]}`,
      "connect_from_port_20=NO",
      // Every session comes from 127.0.0.1: the per-address limit must be as high as the total.
      `max_clients=${maxClients}`,
      `max_per_ip=${maxClients}`,
      "delay_failed_login=0",
      "delay_successful_login=0",
      "idle_session_timeout=3600",
      "data_connection_timeout=600",
      "seccomp_sandbox=NO",
      "isolate=NO",
      "isolate_network=NO",
      "tcp_wrappers=NO",
      "ssl_enable=YES",
      "allow_anon_ssl=NO",
      "force_local_logins_ssl=NO",
      "force_local_data_ssl=NO",
      "ssl_tlsv1=YES",
      "ssl_ciphers=HIGH",
      `rsa_cert_file=${join(tls, "server.pem")}`,
      `rsa_private_key_file=${join(tls, "server.key")}`,
      // No per-command or per-transfer log: 100,000 transfers would only fill the disk.
      "syslog_enable=NO",
      "xferlog_enable=NO",
      "log_ftp_protocol=NO",
      `vsftpd_log_file=${join(scratch, "vsftpd.log")}`,
      "",
    ].join("\n"),
  );
  const child = spawn(join(base, "pkgs/vsftpd/usr/sbin/vsftpd"), [config], { stdio: "ignore" });
  let exited = false;
  child.once("exit", () => (exited = true));
  const stop = () => {
    if (exited) return;
    // The sessions first (they outlive the listener otherwise), then the listener.
    for (const pid of [...descendants(child.pid), child.pid]) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
  };
  process.once("exit", stop);
  try {
    await greeting(port, Date.now() + 10_000);
  } catch (error) {
    stop();
    throw error;
  }
  return {
    host: "127.0.0.1",
    port,
    user: USER,
    password: PASSWORD,
    root,
    ca: readFileSync(join(tls, "ca.pem"), "utf8"),
    pid: child.pid,
    processes: () => descendants(child.pid).length,
    async close() {
      process.off("exit", stop);
      if (exited) return;
      const gone = new Promise((resolve) => child.once("exit", resolve));
      stop();
      await gone;
    },
  };
}
