#!/usr/bin/env bash
# servers/servers.sh — real FTP servers (Debian packages) on loopback for integration tests.
#
# Usage:
#   bash servers/servers.sh install            # apt/dpkg work; idempotent, seconds when done
#   bash servers/servers.sh start [name...]    # names: vsftpd pure-ftpd proftpd pyftpdlib aioftp
#                                              #   twisted inetutils nodeftpd netkit (default: all)
#   bash servers/servers.sh stop [name...]     # idempotent; kills every process it started
#   bash servers/servers.sh status [name...]   # exit 0 if all named are running, 3 otherwise
#   bash servers/servers.sh env                # path + content of .tmp/servers/endpoints.json
#   bash servers/servers.sh reset-data [name...]  # empty the data roots (servers may keep running)
#
# Everything lives in <repo>/.tmp/servers/ (git-ignored):
#   pkgs/<name>/   unpacked .deb files (dpkg -x; vsftpd/pure-ftpd/proftpd conflict as packages;
#                  inetutils-ftpd and ftpd-ssl (netkit) too: they would also pull in an inetd)
#   tls/           ca.pem ca.key server.pem server.key server-combined.pem (CN=localhost)
#   conf/ data/<name>/ run/ (pidfiles) log/ endpoints.json
# Outside the repo it only touches: Debian packages (libraries, python3-pyftpdlib,
# python3-openssl, python3-aioftp, python3-twisted, socat, libpam-pwdfile, openssl), ONE PAM service file,
# /etc/pam.d/vsftpd-ftptest-<hash> (vsftpd authenticates only through PAM; its
# virtual user is checked by pam_pwdfile against conf/vsftpd/passwd), and ONE system
# user, ftptest (useradd --system, locked password, nologin, home = data/vsftpd):
# vsftpd's guest mapping needs a real account whose home exists. pure-ftpd and proftpd
# map their virtual user to nobody:nogroup; pyftpdlib runs as root.
# inetutils and netkit ftpd run inetd-style: one socat per address accepts and execs the ftpd
# on the connection (EXEC ...,nofork), inside a private mount namespace (unshare -m) in which
# conf/<name>/passwd and shadow (and for netkit's PAM, a copy of /etc/pam.d with an "ftp"
# service) are bind-mounted over the system's files: there, and only there, ftptest is a
# user with uid nobody, home data/<name>, shell /bin/sh. The host's files are not changed.
# aioftp and Twisted run in Debian's python (servers/aioftp_server.py, twisted_ftp_server.py),
# nodeftpd (npm ftpd 0.2.16, a devDependency of tooling/test-servers) in node
# (tooling/test-servers/nodeftpd-server.js); all three as root.
#
# Login on every server: ftptest / ftptest-pass, home = .tmp/servers/data/<name>/ (shown as "/",
# except inetutils and netkit, which do not chroot and show the real path).
# pyftpdlib also allows anonymous (read-only, same root).
#
# Ports (all bound to 127.0.0.1 and ::1 only; same port number on both families):
#   server     explicit(plain+AUTH TLS)  implicit FTPS  passive range (v4 and v6 share it: each
#                                                       data socket binds the control connection's
#                                                       local address, 127.0.0.1 or ::1)
#   vsftpd     21021                     21990          21100-21299 explicit, 21300-21499 implicit
#   pyftpdlib  21521                     21590          21600-21899
#   pure-ftpd  22021                     -              22100-22699 (pure-ftpd caps max clients
#                                                       at half the range: 300)
#   proftpd    23021                     23990          23100-23499
#   aioftp     25021 (plain only)        25990          25100-25299 plain, 25300-25499 implicit
#   twisted    26021 (plain, IPv4 only)  -              26100-26499
#   inetutils  27021 (plain only)        -              kernel-chosen (ephemeral), on the control address
#   nodeftpd   28021 (plain only)        -              28100-28499
#   netkit     29021 (plain only)        -              kernel-chosen (ephemeral), on the control address
# (24000-24999 belongs to the client's tests: slow-link and server-kill.)
#
# TLS defaults kept on purpose: vsftpd require_ssl_reuse=YES and proftpd mod_tls (no
# NoSessionReuseRequired) both demand TLS session reuse on data connections.
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd -- "$SCRIPT_DIR/.." && pwd -P)"
BASE="$REPO_ROOT/.tmp/servers"
PKGS="$BASE/pkgs"
TLS_DIR="$BASE/tls"
CONF_DIR="$BASE/conf"
DATA_DIR="$BASE/data"
RUN_DIR="$BASE/run"
LOG_DIR="$BASE/log"
ENDPOINTS="$BASE/endpoints.json"
PYLAUNCHER="$SCRIPT_DIR/pyftpdlib_server.py"
AIOLAUNCHER="$SCRIPT_DIR/aioftp_server.py"
TWLAUNCHER="$SCRIPT_DIR/twisted_ftp_server.py"
NODELAUNCHER="$REPO_ROOT/tooling/test-servers/nodeftpd-server.js"
NODEFTPD_PKG="$REPO_ROOT/tooling/test-servers/node_modules/ftpd/package.json"
NODEFTPD_VERSION=0.2.16
PNPM=(npx -y pnpm@10.34.8)
SYS_PYTHON=/usr/bin/python3   # Debian's python: python3-pyftpdlib lives there (not pyenv's)

FTP_USER=ftptest
FTP_PASS=ftptest-pass
ALL_SERVERS=(vsftpd pure-ftpd proftpd pyftpdlib aioftp twisted inetutils nodeftpd netkit)
INSTALL_RECIPE=1   # bump to force a re-unpack on the next install

VSFTPD_PORT=21021
VSFTPD_IMPLICIT_PORT=21990
VSFTPD_PASV=21100-21299
VSFTPD_PASV_IMPLICIT=21300-21499
PYFTPDLIB_PORT=21521
PYFTPDLIB_IMPLICIT_PORT=21590
PYFTPDLIB_PASV=21600-21899
PUREFTPD_PORT=22021
PUREFTPD_PASV=22100-22699
PROFTPD_PORT=23021
PROFTPD_IMPLICIT_PORT=23990
PROFTPD_PASV=23100-23499
AIOFTP_PORT=25021
AIOFTP_IMPLICIT_PORT=25990
AIOFTP_PASV=25100-25299
AIOFTP_PASV_IMPLICIT=25300-25499
TWISTED_PORT=26021
TWISTED_PASV=26100-26499
INETUTILS_PORT=27021
NODEFTPD_PORT=28021
NODEFTPD_PASV=28100-28499
NETKIT_PORT=29021

START_TIMEOUT=${FTP_SERVERS_START_TIMEOUT:-30}   # seconds per instance
STOP_TIMEOUT=10

# Short hash of the runtime dir so that two checkouts never share a PAM file.
BASE_HASH="$(printf '%s' "$BASE" | cksum | cut -d' ' -f1)"
VSFTPD_PAM_SERVICE="vsftpd-ftptest-$BASE_HASH"

log()  { printf '[servers] %s\n' "$*" >&2; }
die()  { printf '[servers] ERROR: %s\n' "$*" >&2; exit 1; }

need_root() {
  [[ $(id -u) -eq 0 ]] || die "'$1' must run as root (apt-get, chroot-ing servers, chown of data roots)"
}

lock() {
  mkdir -p "$BASE"
  exec 9>"$BASE/.lock"
  flock -w 600 9 || die "could not get the lock $BASE/.lock within 600s"
}

# nobody:nogroup (virtual users of pure-ftpd/proftpd run as this identity)
run_uid() { id -u nobody 2>/dev/null || echo 65534; }
run_gid() { getent group nogroup >/dev/null 2>&1 && getent group nogroup | cut -d: -f3 || echo 65534; }
run_user() { id -un "$(run_uid)" 2>/dev/null || echo nobody; }
run_group() { getent group "$(run_gid)" | cut -d: -f1 || echo nogroup; }

# ---------------------------------------------------------------------------- install

APT_UPDATED=0
apt_update_once() {
  if [[ $APT_UPDATED -eq 0 ]]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$LOG_DIR/apt-update.log" 2>&1 \
      || { tail -20 "$LOG_DIR/apt-update.log" >&2; die "apt-get update failed"; }
    APT_UPDATED=1
  fi
}

pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

apt_install_missing() {
  local missing=() p
  for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  apt_update_once
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >"$LOG_DIR/apt-install.log" 2>&1 \
    || { tail -30 "$LOG_DIR/apt-install.log" >&2; die "apt-get install ${missing[*]} failed"; }
}

# library dependencies (lib*/zlib*) of a .deb: first alternative, no version constraint
deb_lib_deps() {
  dpkg-deb -f "$1" Depends Pre-Depends | sed 's/^[A-Z][A-Za-z-]*:[[:space:]]*//' | tr ',\n' '\n\n' | sed 's/|.*//; s/([^)]*)//g; s/:any//; s/^[[:space:]]*//; s/[[:space:]]*$//' \
    | grep -E '^(lib|zlib)' | sort -u
}

# unpack_server NAME BINARY DEBPKG...  -> $PKGS/NAME/
unpack_server() {
  local name=$1 bin=$2; shift 2
  local dest="$PKGS/$name" stamp="$PKGS/$name/.installed" want
  want="recipe=$INSTALL_RECIPE pkgs=$*"
  if [[ -f $stamp && -x $dest/$bin ]] && head -1 "$stamp" | grep -qxF "$want"; then
    # already unpacked; make sure its libraries are still installed (cheap dpkg-query)
    # shellcheck disable=SC2046
    apt_install_missing $(sed -n 's/^libdeps=//p' "$stamp")
    return 0
  fi
  log "fetching $* (apt-get download) -> $dest"
  apt_update_once
  local dl="$PKGS/debs"
  rm -rf "$dest" "$dl/$name"
  mkdir -p "$dest" "$dl/$name"
  # let apt's _apt sandbox user write the download dir (avoids the "unsandboxed" warning)
  if id _apt >/dev/null 2>&1; then chown _apt "$dl/$name"; fi
  (cd "$dl/$name" && apt-get download -q "$@" >"$LOG_DIR/apt-download-$name.log" 2>&1) \
    || { tail -20 "$LOG_DIR/apt-download-$name.log" >&2; die "apt-get download $* failed"; }
  local deb libdeps=() versions=()
  for deb in "$dl/$name"/*.deb; do
    dpkg -x "$deb" "$dest"
    mapfile -t -O "${#libdeps[@]}" libdeps < <(deb_lib_deps "$deb")
    versions+=("$(dpkg-deb -f "$deb" Package)=$(dpkg-deb -f "$deb" Version)")
  done
  mapfile -t libdeps < <(printf '%s\n' "${libdeps[@]}" | sort -u)
  apt_install_missing "${libdeps[@]}"
  local f missing_libs
  for f in "$dest/$bin" "$dest"/usr/lib/proftpd/mod_tls.so; do
    [[ -e $f ]] || continue
    missing_libs=$(ldd "$f" 2>/dev/null | grep 'not found' || true)
    [[ -z $missing_libs ]] || die "$f still misses libraries after installing deps: $missing_libs"
  done
  {
    echo "$want"
    echo "libdeps=${libdeps[*]}"
    for f in "${versions[@]}"; do echo "version:$f"; done
  } >"$stamp"
}

cmd_install() {
  need_root install
  lock
  mkdir -p "$PKGS" "$LOG_DIR"
  command -v dpkg-deb >/dev/null || die "dpkg-deb not found: this script needs Debian/Ubuntu"
  apt_install_missing openssl procps python3 python3-pyftpdlib python3-openssl libpam-pwdfile libpam-modules \
    python3-aioftp python3-twisted socat util-linux mount
  unpack_server vsftpd usr/sbin/vsftpd vsftpd
  unpack_server pure-ftpd usr/sbin/pure-ftpd pure-ftpd
  # mod_tls.so for proftpd 1.3.8 is shipped by proftpd-mod-crypto (not proftpd-core)
  unpack_server proftpd usr/sbin/proftpd proftpd-core proftpd-mod-crypto
  [[ -f $PKGS/proftpd/usr/lib/proftpd/mod_tls.so ]] || die "mod_tls.so missing from proftpd-mod-crypto"
  # inetd-style servers: unpacked, not installed (the packages would pull in an inetd)
  unpack_server inetutils usr/sbin/ftpd inetutils-ftpd
  unpack_server netkit usr/sbin/in.ftpd ftpd-ssl
  ensure_nodeftpd
  "$SYS_PYTHON" -c 'import pyftpdlib.handlers as h; from OpenSSL import SSL; assert hasattr(h, "TLS_FTPHandler")' \
    || die "$SYS_PYTHON cannot import pyftpdlib with TLS support (python3-pyftpdlib, python3-openssl)"
  "$SYS_PYTHON" -c 'import aioftp, twisted.protocols.ftp' \
    || die "$SYS_PYTHON cannot import aioftp and twisted.protocols.ftp (python3-aioftp, python3-twisted)"
  local s line=()
  for s in "${ALL_SERVERS[@]}"; do line+=("$(server_version "$s") $s"); done
  log "install OK: $(printf '%s, ' "${line[@]}" | sed 's/, $//')"
}

# nodeftpd is npm's ftpd, a devDependency of tooling/test-servers: the workspace's own install
# (pnpm install) puts it there; a checkout that has not run it yet gets that package installed.
ensure_nodeftpd() {
  command -v node >/dev/null || die "node not found on PATH (nodeftpd runs in Node.js)"
  if ! nodeftpd_installed; then
    log "installing tooling/test-servers' dependencies (npm ftpd $NODEFTPD_VERSION for nodeftpd)"
    (cd "$REPO_ROOT" && "${PNPM[@]}" install --frozen-lockfile --filter @ftplib/test-servers) \
      >"$LOG_DIR/pnpm-install.log" 2>&1 \
      || { tail -30 "$LOG_DIR/pnpm-install.log" >&2; die "pnpm install --filter @ftplib/test-servers failed"; }
    nodeftpd_installed || die "npm ftpd $NODEFTPD_VERSION is still missing from $NODEFTPD_PKG"
  fi
}
nodeftpd_installed() {
  [[ -f $NODEFTPD_PKG ]] && grep -q "\"version\": \"$NODEFTPD_VERSION\"" "$NODEFTPD_PKG"
}

installed_ok() {
  [[ -x $PKGS/vsftpd/usr/sbin/vsftpd && -x $PKGS/pure-ftpd/usr/sbin/pure-ftpd && -x $PKGS/proftpd/usr/sbin/proftpd \
    && -f $PKGS/vsftpd/.installed && -f $PKGS/pure-ftpd/.installed && -f $PKGS/proftpd/.installed \
    && -x $PKGS/inetutils/usr/sbin/ftpd && -f $PKGS/inetutils/.installed \
    && -x $PKGS/netkit/usr/sbin/in.ftpd && -f $PKGS/netkit/.installed ]] \
    && pkg_installed python3-pyftpdlib && pkg_installed libpam-pwdfile && command -v openssl >/dev/null \
    && pkg_installed python3-aioftp && pkg_installed python3-twisted && command -v socat >/dev/null \
    && command -v unshare >/dev/null && command -v node >/dev/null && nodeftpd_installed
}

# Debian version of the unpacked / installed package
server_pkg_version() {
  case $1 in
    vsftpd)    sed -n 's/^version:vsftpd=//p' "$PKGS/vsftpd/.installed" 2>/dev/null ;;
    pure-ftpd) sed -n 's/^version:pure-ftpd=//p' "$PKGS/pure-ftpd/.installed" 2>/dev/null ;;
    proftpd)   sed -n 's/^version:proftpd-core=//p' "$PKGS/proftpd/.installed" 2>/dev/null ;;
    pyftpdlib) dpkg-query -W -f='${Version}' python3-pyftpdlib 2>/dev/null ;;
    aioftp)    dpkg-query -W -f='${Version}' python3-aioftp 2>/dev/null ;;
    twisted)   dpkg-query -W -f='${Version}' python3-twisted 2>/dev/null ;;
    inetutils) sed -n 's/^version:inetutils-ftpd=//p' "$PKGS/inetutils/.installed" 2>/dev/null ;;
    netkit)    sed -n 's/^version:ftpd-ssl=//p' "$PKGS/netkit/.installed" 2>/dev/null ;;
    nodeftpd)  sed -n 's/^ *"version": "\([^"]*\)".*/\1/p' "$NODEFTPD_PKG" 2>/dev/null | head -1 ;;
  esac
}
# upstream version: drop epoch, Debian revision, +dfsg and ftpd-ssl's "0.17.36+really" prefix
server_version() { server_pkg_version "$1" | sed 's/^[0-9]*://; s/-[^-]*$//; s/+dfsg.*//; s/+ds.*//; s/^.*+really//'; }

# ---------------------------------------------------------------------------- TLS

ensure_tls() {
  mkdir -p "$TLS_DIR"
  chmod 755 "$TLS_DIR"
  if [[ -s $TLS_DIR/ca.pem && -s $TLS_DIR/server.pem && -s $TLS_DIR/server.key && -s $TLS_DIR/server-combined.pem ]] \
     && openssl verify -CAfile "$TLS_DIR/ca.pem" "$TLS_DIR/server.pem" >/dev/null 2>&1 \
     && openssl x509 -in "$TLS_DIR/server.pem" -noout -checkend 604800 >/dev/null 2>&1; then
    return 0
  fi
  log "generating test CA and server certificate in $TLS_DIR"
  local tmp; tmp=$(mktemp -d)
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
    -subj "/CN=FTP integration test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$tmp/ca.key" -out "$tmp/ca.pem" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; die "CA generation failed"; }
  openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" \
    -keyout "$tmp/server.key" -out "$tmp/server.csr" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; die "CSR generation failed"; }
  cat >"$tmp/ext.cnf" <<'EOF'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
EOF
  openssl x509 -req -sha256 -days 3650 -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
    -set_serial "0x$(openssl rand -hex 8)" -extfile "$tmp/ext.cnf" -out "$tmp/server.pem" >"$tmp/log" 2>&1 \
    || { cat "$tmp/log" >&2; die "server certificate signing failed"; }
  cat "$tmp/server.key" "$tmp/server.pem" >"$tmp/server-combined.pem"
  install -m 0644 "$tmp/ca.pem" "$TLS_DIR/ca.pem"
  install -m 0600 "$tmp/ca.key" "$TLS_DIR/ca.key"
  install -m 0644 "$tmp/server.pem" "$TLS_DIR/server.pem"
  install -m 0600 "$tmp/server.key" "$TLS_DIR/server.key"
  install -m 0600 "$tmp/server-combined.pem" "$TLS_DIR/server-combined.pem"
  rm -rf "$tmp"
}

# ---------------------------------------------------------------------------- instances

instances_of() {
  case $1 in
    vsftpd)    echo "vsftpd-v4 vsftpd-v6 vsftpd-implicit-v4 vsftpd-implicit-v6" ;;
    pure-ftpd) echo "pure-ftpd-v4 pure-ftpd-v6" ;;
    proftpd)   echo "proftpd" ;;
    pyftpdlib) echo "pyftpdlib" ;;
    aioftp)    echo "aioftp" ;;
    twisted)   echo "twisted" ;;
    inetutils) echo "inetutils-v4 inetutils-v6" ;;
    nodeftpd)  echo "nodeftpd" ;;
    netkit)    echo "netkit-v4 netkit-v6" ;;
    *) die "unknown server '$1' (known: ${ALL_SERVERS[*]})" ;;
  esac
}

# "host port" lines each instance listens on
listens_of() {
  case $1 in
    vsftpd-v4)          echo "127.0.0.1 $VSFTPD_PORT" ;;
    vsftpd-v6)          echo "::1 $VSFTPD_PORT" ;;
    vsftpd-implicit-v4) echo "127.0.0.1 $VSFTPD_IMPLICIT_PORT" ;;
    vsftpd-implicit-v6) echo "::1 $VSFTPD_IMPLICIT_PORT" ;;
    pure-ftpd-v4)       echo "127.0.0.1 $PUREFTPD_PORT" ;;
    pure-ftpd-v6)       echo "::1 $PUREFTPD_PORT" ;;
    proftpd)            printf '%s\n' "127.0.0.1 $PROFTPD_PORT" "::1 $PROFTPD_PORT" "127.0.0.1 $PROFTPD_IMPLICIT_PORT" "::1 $PROFTPD_IMPLICIT_PORT" ;;
    pyftpdlib)          printf '%s\n' "127.0.0.1 $PYFTPDLIB_PORT" "::1 $PYFTPDLIB_PORT" "127.0.0.1 $PYFTPDLIB_IMPLICIT_PORT" "::1 $PYFTPDLIB_IMPLICIT_PORT" ;;
    aioftp)             printf '%s\n' "127.0.0.1 $AIOFTP_PORT" "::1 $AIOFTP_PORT" "127.0.0.1 $AIOFTP_IMPLICIT_PORT" "::1 $AIOFTP_IMPLICIT_PORT" ;;
    twisted)            echo "127.0.0.1 $TWISTED_PORT" ;;
    inetutils-v4)       echo "127.0.0.1 $INETUTILS_PORT" ;;
    inetutils-v6)       echo "::1 $INETUTILS_PORT" ;;
    nodeftpd)           printf '%s\n' "127.0.0.1 $NODEFTPD_PORT" "::1 $NODEFTPD_PORT" ;;
    netkit-v4)          echo "127.0.0.1 $NETKIT_PORT" ;;
    netkit-v6)          echo "::1 $NETKIT_PORT" ;;
  esac
}

pidfile_of() { echo "$RUN_DIR/$1.pid"; }
logfile_of() { echo "$LOG_DIR/$1.log"; }

# pid of a running instance (verified against /proc so a recycled pid is never trusted)
instance_pid() {
  local pf pid
  pf=$(pidfile_of "$1")
  [[ -s $pf ]] || return 1
  pid=$(tr -dc '0-9' <"$pf")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  is_our_process "$pid" || return 1
  echo "$pid"
}

# ours = executable unpacked under $PKGS, python or node running one of our launchers, or a
# socat that execs an ftpd unpacked under $PKGS (pure-ftpd and proftpd rewrite their argv, so
# the command line alone is not enough)
is_our_process() {
  local exe cmd
  exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
  [[ $exe == "$PKGS/"* ]] && return 0
  cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  is_our_cmdline "$exe" "$cmd"
}
is_our_cmdline() {  # exe cmdline
  case $1 in
    */python3*) [[ $2 == *"$PYLAUNCHER --listen"* || $2 == *"$AIOLAUNCHER --listen"* || $2 == *"$TWLAUNCHER --listen"* ]] ;;
    */node)     [[ $2 == *"$NODELAUNCHER --listen"* ]] ;;
    */socat)    [[ $2 == *"EXEC:$PKGS/"* ]] ;;
    *) return 1 ;;
  esac
}

port_open() {  # host port
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# ---------------------------------------------------------------------------- configs

write_vsftpd_conf() {  # instance family(4|6) implicit(YES|NO) port pasv_range
  local inst=$1 fam=$2 implicit=$3 port=$4 range=$5
  local conf="$CONF_DIR/vsftpd/$inst.conf" listen_lines
  if [[ $fam == 4 ]]; then
    listen_lines=$'listen=YES\nlisten_ipv6=NO\nlisten_address=127.0.0.1'
  else
    listen_lines=$'listen=NO\nlisten_ipv6=YES\nlisten_address6=::1'
  fi
  cat >"$conf" <<EOF
# generated by servers/servers.sh — $inst
# Virtual user: PAM service $VSFTPD_PAM_SERVICE (pam_pwdfile -> $CONF_DIR/vsftpd/passwd),
# mapped to the system account '$VSFTPD_SYSTEM_USER' (guest_enable), chrooted to the data root.
$listen_lines
listen_port=$port
background=NO
run_as_launching_user=NO
anonymous_enable=NO
local_enable=YES
guest_enable=YES
guest_username=$VSFTPD_SYSTEM_USER
virtual_use_local_privs=YES
pam_service_name=$VSFTPD_PAM_SERVICE
local_root=$DATA_DIR/vsftpd
chroot_local_user=YES
allow_writeable_chroot=YES
secure_chroot_dir=$RUN_DIR/vsftpd-empty
write_enable=YES
local_umask=022
file_open_mode=0666
chmod_enable=YES
dirmessage_enable=NO
utf8_filesystem=YES
use_localtime=NO
# data connections
pasv_enable=YES
pasv_min_port=${range%-*}
pasv_max_port=${range#*-}
pasv_promiscuous=NO
port_enable=YES
connect_from_port_20=NO
port_promiscuous=NO
# limits generous for tests, no anti-flood delays
max_clients=500
max_per_ip=500
max_login_fails=100
delay_failed_login=0
delay_successful_login=0
idle_session_timeout=600
data_connection_timeout=600
accept_timeout=60
connect_timeout=60
# containers: no seccomp / namespace tricks (isolate_network makes every login slow)
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
tcp_wrappers=NO
# TLS (require_ssl_reuse left at its default YES)
ssl_enable=YES
implicit_ssl=$implicit
allow_anon_ssl=NO
force_local_logins_ssl=NO
force_local_data_ssl=NO
ssl_sslv2=NO
ssl_sslv3=NO
ssl_tlsv1=YES
ssl_ciphers=HIGH
rsa_cert_file=$TLS_DIR/server.pem
rsa_private_key_file=$TLS_DIR/server.key
# logging
syslog_enable=NO
xferlog_enable=YES
xferlog_std_format=NO
log_ftp_protocol=YES
vsftpd_log_file=$LOG_DIR/$inst.vsftpd.log
EOF
}

# vsftpd (PAM build) can only log in users that map to a system account whose home
# directory exists (it chdir()s there before local_root/chroot), so it gets one system
# user: ftptest (--system, locked password, nologin, home = vsftpd data root).
VSFTPD_SYSTEM_USER=ftptest
ensure_vsftpd_system_user() {
  local home="$DATA_DIR/vsftpd"
  if ! getent passwd "$VSFTPD_SYSTEM_USER" >/dev/null; then
    log "creating system user $VSFTPD_SYSTEM_USER (locked, nologin, home $home) for vsftpd"
    useradd --system --user-group --no-create-home --home-dir "$home" \
      --shell /usr/sbin/nologin --comment "FTP integration tests (vsftpd guest)" "$VSFTPD_SYSTEM_USER" \
      || die "useradd $VSFTPD_SYSTEM_USER failed"
  elif [[ $(getent passwd "$VSFTPD_SYSTEM_USER" | cut -d: -f6) != "$home" ]]; then
    usermod --home "$home" "$VSFTPD_SYSTEM_USER" || die "usermod --home $home $VSFTPD_SYSTEM_USER failed"
  fi
}

prepare_vsftpd() {
  mkdir -p "$CONF_DIR/vsftpd" "$RUN_DIR/vsftpd-empty"
  chmod 0555 "$RUN_DIR/vsftpd-empty"
  # virtual user for pam_pwdfile (crypt(3) SHA-512)
  printf '%s:%s\n' "$FTP_USER" "$(openssl passwd -6 "$FTP_PASS")" >"$CONF_DIR/vsftpd/passwd"
  chmod 0600 "$CONF_DIR/vsftpd/passwd"
  local pam="/etc/pam.d/$VSFTPD_PAM_SERVICE"
  local content
  content="# written by $SCRIPT_DIR/servers.sh (FTP integration-test vsftpd); removed by 'servers.sh stop'
auth    required pam_pwdfile.so pwdfile=$CONF_DIR/vsftpd/passwd
account required pam_permit.so
session required pam_permit.so"
  if [[ ! -f $pam ]] || [[ "$(cat "$pam")" != "$content" ]]; then
    printf '%s\n' "$content" >"$pam"
    chmod 0644 "$pam"
  fi
  write_vsftpd_conf vsftpd-v4          4 NO  "$VSFTPD_PORT"          "$VSFTPD_PASV"
  write_vsftpd_conf vsftpd-v6          6 NO  "$VSFTPD_PORT"          "$VSFTPD_PASV"
  write_vsftpd_conf vsftpd-implicit-v4 4 YES "$VSFTPD_IMPLICIT_PORT" "$VSFTPD_PASV_IMPLICIT"
  write_vsftpd_conf vsftpd-implicit-v6 6 YES "$VSFTPD_IMPLICIT_PORT" "$VSFTPD_PASV_IMPLICIT"
}

prepare_pureftpd() {
  local d="$CONF_DIR/pure-ftpd"
  mkdir -p "$d"
  rm -f "$d/pureftpd.passwd" "$d/pureftpd.pdb"
  # Same line format as `pure-pw useradd ... -d HOME` writes (HOME/./ = chrooted), but with a
  # SHA-512 crypt(3) hash: pure-pw's own argon2id hash costs ~4 s of CPU per login here.
  printf '%s:%s:%s:%s::%s/./::::::::::::\n' "$FTP_USER" "$(openssl passwd -6 "$FTP_PASS")" \
    "$(run_uid)" "$(run_gid)" "$DATA_DIR/pure-ftpd" >"$d/pureftpd.passwd"
  : >"$LOG_DIR/pure-pw.log"
  "$PKGS/pure-ftpd/usr/bin/pure-pw" mkdb "$d/pureftpd.pdb" -f "$d/pureftpd.passwd" >>"$LOG_DIR/pure-pw.log" 2>&1 \
    || { cat "$LOG_DIR/pure-pw.log" >&2; die "pure-pw mkdb failed"; }
  chmod 0600 "$d/pureftpd.passwd" "$d/pureftpd.pdb"
}

prepare_proftpd() {
  local d="$CONF_DIR/proftpd"
  mkdir -p "$d"
  printf '%s:%s:%s:%s::%s:/usr/sbin/nologin\n' "$FTP_USER" "$(openssl passwd -6 "$FTP_PASS")" \
    "$(run_uid)" "$(run_gid)" "$DATA_DIR/proftpd" >"$d/ftpd.passwd"
  printf '%s:x:%s:%s\n' "$FTP_USER" "$(run_gid)" "$FTP_USER" >"$d/ftpd.group"
  chmod 0600 "$d/ftpd.passwd" "$d/ftpd.group"
  cat >"$d/proftpd.conf" <<EOF
# generated by servers/servers.sh — one proftpd process:
#   main server  127.0.0.1 + ::1 port $PROFTPD_PORT (plain FTP, AUTH TLS optional)
#   VirtualHost  127.0.0.1 + ::1 port $PROFTPD_IMPLICIT_PORT (implicit FTPS)
# Virtual user from AuthUserFile (uid/gid of $(run_user)/$(run_group)); TLS session reuse
# on data connections is required (mod_tls default, NoSessionReuseRequired NOT set).
ServerType            standalone
DefaultServer         on
UseIPv6               on
SocketBindTight       on
DefaultAddress        127.0.0.1 ::1
Port                  $PROFTPD_PORT
User                  $(run_user)
Group                 $(run_group)
PidFile               $RUN_DIR/proftpd.daemon.pid
ScoreboardFile        $RUN_DIR/proftpd.scoreboard
TransferLog           $LOG_DIR/proftpd.xfer.log
ExtendedLog           $LOG_DIR/proftpd.commands.log ALL
MaxInstances          500
UseReverseDNS         off
WtmpLog               off
ControlsEngine        off
DelayEngine           off
ModulePath            $PKGS/proftpd/usr/lib/proftpd
LoadModule            mod_tls.c
# MODE Z (deflate on the data connection) and HASH, XCRC, XMD5, XSHA1, XSHA256: the only server
# of the matrix that offers them.
LoadModule            mod_deflate.c
LoadModule            mod_digest.c

<Global>
  AuthOrder             mod_auth_file.c
  AuthPAM               off
  AuthUserFile          $d/ftpd.passwd
  AuthGroupFile         $d/ftpd.group
  RequireValidShell     off
  PersistentPasswd      off
  UseLastlog            off
  DefaultRoot           ~
  Umask                 022
  AllowOverwrite        on
  AllowStoreRestart     on
  AllowRetrieveRestart  on
  UseEncoding           UTF-8 UTF-8
  PassivePorts          ${PROFTPD_PASV%-*} ${PROFTPD_PASV#*-}
  MaxClients            500
  MaxClientsPerHost     500
  MaxClientsPerUser     500
  MaxHostsPerUser       500
  MaxConnectionsPerHost 500
  MaxLoginAttempts      100
  TimeoutLogin          300
  TimeoutIdle           600
  TimeoutNoTransfer     600
  TimeoutStalled        600
  <IfModule mod_deflate.c>
    DeflateEngine            on
  </IfModule>
  <IfModule mod_digest.c>
    DigestEngine             on
    DigestAlgorithms         all
  </IfModule>
  <IfModule mod_tls.c>
    TLSEngine                on
    TLSLog                   $LOG_DIR/proftpd.tls.log
    TLSProtocol              TLSv1.2 TLSv1.3
    TLSRSACertificateFile    $TLS_DIR/server.pem
    TLSRSACertificateKeyFile $TLS_DIR/server.key
    TLSVerifyClient          off
    TLSRequired              off
    TLSRenegotiate           none
  </IfModule>
</Global>

<VirtualHost 127.0.0.1 ::1>
  Port                  $PROFTPD_IMPLICIT_PORT
  <IfModule mod_tls.c>
    TLSOptions          UseImplicitSSL
  </IfModule>
</VirtualHost>
EOF
}

# inetutils-ftpd and netkit ftpd look their users up in the system's files (getpwnam, crypt or
# PAM). They run in a private mount namespace in which these files are bind-mounted over the
# system's: passwd (root, nobody and ftptest: uid/gid of nobody, home = data root, shell
# /bin/sh, which getusershell accepts), shadow (ftptest only, SHA-512 crypt) and, for netkit,
# whose PAM service is "ftp", a copy of /etc/pam.d with our own "ftp" file (pam_ftp, which the
# daemon needs for its prompts, then pam_unix against that shadow file).
prepare_inetd() {  # server
  local name=$1 d="$CONF_DIR/$1"
  mkdir -p "$d"
  {
    echo "root:x:0:0:root:/root:/bin/bash"
    echo "$(run_user):x:$(run_uid):$(run_gid):nobody:/nonexistent:/usr/sbin/nologin"
    echo "$FTP_USER:x:$(run_uid):$(run_gid):FTP integration tests ($name):$DATA_DIR/$name:/bin/sh"
  } >"$d/passwd"
  printf '%s:%s:19000:0:99999:7:::\n' "$FTP_USER" "$(openssl passwd -6 "$FTP_PASS")" >"$d/shadow"
  chmod 0644 "$d/passwd"
  chmod 0600 "$d/shadow"
  grep -qx /bin/sh /etc/shells || die "/bin/sh is not in /etc/shells: $name would refuse the login"
  if [[ $name == netkit ]]; then
    rm -rf "$d/pam.d"
    cp -a /etc/pam.d "$d/pam.d"
    cat >"$d/pam.d/ftp" <<EOF
# generated by servers/servers.sh: netkit ftpd's PAM service, seen only inside its namespace
auth    sufficient pam_ftp.so
auth    required   pam_unix.so
account required   pam_permit.so
session required   pam_permit.so
EOF
  fi
}

# command line of the inetd-style instance NAME-v4 / NAME-v6: unshare, bind mounts, then socat,
# which accepts on loopback and execs one ftpd per connection with the socket as stdin/stdout
inetd_cmd() {  # instance ftpd-command-line
  local inst=$1 ftpd=$2 name=${1%-v[46]} listen
  if [[ $inst == *-v4 ]]; then
    listen="TCP4-LISTEN:$(listens_of "$inst" | cut -d' ' -f2),bind=127.0.0.1,reuseaddr,fork,backlog=128"
  else
    listen="TCP6-LISTEN:$(listens_of "$inst" | cut -d' ' -f2),bind=[::1],ipv6only=1,reuseaddr,fork,backlog=128"
  fi
  local mounts='mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/shadow'
  [[ $name == netkit ]] && mounts+=' && mount --bind "$3" /etc/pam.d'
  printf '%s\n' unshare --mount --propagation private bash -c "$mounts"' && shift 3 && exec "$@"' "$inst" \
    "$CONF_DIR/$name/passwd" "$CONF_DIR/$name/shadow" "$CONF_DIR/$name/pam.d" \
    socat "$listen" "EXEC:$ftpd,nofork"
}

# command line of an instance (printed one arg per line, NUL-free)
instance_cmd() {
  case $1 in
    vsftpd-*)
      printf '%s\n' "$PKGS/vsftpd/usr/sbin/vsftpd" "$CONF_DIR/vsftpd/$1.conf" ;;
    pure-ftpd-v4|pure-ftpd-v6)
      local host=127.0.0.1
      [[ $1 == pure-ftpd-v6 ]] && host=::1
      # -S bind, -l virtual users, -E no anonymous, -A chroot everyone, -H no DNS,
      # -Y 1 TLS optional, -2 cert, -p passive range, -c/-C clients, -I idle minutes,
      # -L ls limits, -O transfer log.  (Debian's pure-ftpd has no implicit TLS.)
      printf '%s\n' "$PKGS/pure-ftpd/usr/sbin/pure-ftpd" \
        -S "$host,$PUREFTPD_PORT" -l "puredb:$CONF_DIR/pure-ftpd/pureftpd.pdb" -E -A -H \
        -Y 1 -2 "$TLS_DIR/server-combined.pem" -p "${PUREFTPD_PASV/-/:}" \
        -c 300 -C 300 -I 15 -L 1000000:100 -O "clf:$LOG_DIR/$1.xfer.log" ;;
    proftpd)
      printf '%s\n' "$PKGS/proftpd/usr/sbin/proftpd" -n -c "$CONF_DIR/proftpd/proftpd.conf" ;;
    pyftpdlib)
      printf '%s\n' "$SYS_PYTHON" "$PYLAUNCHER" \
        --listen "127.0.0.1:$PYFTPDLIB_PORT:explicit" --listen "::1:$PYFTPDLIB_PORT:explicit" \
        --listen "127.0.0.1:$PYFTPDLIB_IMPLICIT_PORT:implicit" --listen "::1:$PYFTPDLIB_IMPLICIT_PORT:implicit" \
        --root "$DATA_DIR/pyftpdlib" --user "$FTP_USER" --password "$FTP_PASS" \
        --cert "$TLS_DIR/server.pem" --key "$TLS_DIR/server.key" --passive "$PYFTPDLIB_PASV" ;;
    aioftp)
      printf '%s\n' "$SYS_PYTHON" "$AIOLAUNCHER" \
        --listen "127.0.0.1:$AIOFTP_PORT:plain" --listen "::1:$AIOFTP_PORT:plain" \
        --listen "127.0.0.1:$AIOFTP_IMPLICIT_PORT:implicit" --listen "::1:$AIOFTP_IMPLICIT_PORT:implicit" \
        --root "$DATA_DIR/aioftp" --user "$FTP_USER" --password "$FTP_PASS" \
        --cert "$TLS_DIR/server.pem" --key "$TLS_DIR/server.key" \
        --passive-plain "$AIOFTP_PASV" --passive-implicit "$AIOFTP_PASV_IMPLICIT" ;;
    twisted)
      printf '%s\n' "$SYS_PYTHON" "$TWLAUNCHER" --listen "127.0.0.1:$TWISTED_PORT" \
        --root "$DATA_DIR/twisted" --user "$FTP_USER" --password "$FTP_PASS" --passive "$TWISTED_PASV" ;;
    nodeftpd)
      printf '%s\n' "$(command -v node)" "$NODELAUNCHER" \
        --listen "127.0.0.1:$NODEFTPD_PORT" --listen "::1:$NODEFTPD_PORT" \
        --root "$DATA_DIR/nodeftpd" --user "$FTP_USER" --password "$FTP_PASS" --passive "$NODEFTPD_PASV" ;;
    inetutils-v4|inetutils-v6)
      # -a default: passwd/shadow (crypt), not PAM; -u 022 as the other servers; -t idle seconds
      inetd_cmd "$1" "$PKGS/inetutils/usr/sbin/ftpd -a default -u 022 -t 600 -T 600" ;;
    netkit-v4|netkit-v6)
      # -z nossl: its TLS never loads the certificate (-z cert= is ignored), so every handshake fails
      inetd_cmd "$1" "$PKGS/netkit/usr/sbin/in.ftpd -z nossl -u 022 -t 600 -T 600" ;;
  esac
}

ensure_data_root() {  # server
  local d="$DATA_DIR/$1"
  mkdir -p "$d"
  case $1 in
    pyftpdlib|aioftp|twisted|nodeftpd) chown 0:0 "$d" ;;
    vsftpd) ensure_vsftpd_system_user; chown "$VSFTPD_SYSTEM_USER:$VSFTPD_SYSTEM_USER" "$d" ;;
    *) chown "$(run_uid):$(run_gid)" "$d" ;;
  esac
  chmod 0777 "$d"
}

# ---------------------------------------------------------------------------- start/stop

start_instance() {
  local inst=$1 pid pf lf host port
  if pid=$(instance_pid "$inst"); then
    log "$inst already running (pid $pid)"
    return 0
  fi
  pf=$(pidfile_of "$inst"); lf=$(logfile_of "$inst")
  rm -f "$pf"
  while read -r host port; do
    if port_open "$host" "$port"; then
      ss -ltnp 2>/dev/null | grep -E "[:.]$port\b" >&2 || true
      die "$inst: [$host]:$port is already in use by another process (not started by this script's pidfiles)"
    fi
  done < <(listens_of "$inst")
  local cmd=()
  PENDING_INSTANCE=$inst
  mapfile -t cmd < <(instance_cmd "$inst")
  {
    echo "=== $(date -u +%FT%TZ) starting $inst"
    echo "=== $(printf '%q ' "${cmd[@]}")"
  } >"$lf"
  # setsid: own session/process group (stop kills the whole group); the inner shell
  # records its own pid, then execs the server in place, so the pidfile is the server's pid.
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pf" "${cmd[@]}" >>"$lf" 2>&1 </dev/null 9>&- &
  disown || true
  local deadline=$((SECONDS + START_TIMEOUT))
  while [[ ! -s $pf ]]; do
    ((SECONDS < deadline)) || die "$inst: pidfile $pf never appeared; log tail:"$'\n'"$(tail -30 "$lf")"
    sleep 0.05
  done
  pid=$(tr -dc '0-9' <"$pf")
  while read -r host port; do
    until port_open "$host" "$port"; do
      if ! proc_alive "$pid"; then
        die "$inst exited before listening on [$host]:$port; log tail ($lf):"$'\n'"$(tail -40 "$lf")$(extra_log_tail "$inst")"
      fi
      if ((SECONDS >= deadline)); then
        die "$inst does not accept connections on [$host]:$port after ${START_TIMEOUT}s; log tail ($lf):"$'\n'"$(tail -40 "$lf")$(extra_log_tail "$inst")"
      fi
      sleep 0.1
    done
  done < <(listens_of "$inst")
  STARTED_NOW+=("$inst")
  log "$inst started (pid $pid): $(listens_of "$inst" | awk '{printf "[%s]:%s ", $1, $2}')"
}

# EXIT trap of `start`: if it fails half-way, stop what this call started (nothing is
# left running behind a failed CI step), keep what was already running before.
STARTED_NOW=()
start_cleanup() {
  local rc=$? inst
  trap - EXIT
  if [[ $rc -ne 0 ]]; then
    for inst in "${STARTED_NOW[@]}"; do stop_instance "$inst"; done
    [[ -n ${PENDING_INSTANCE:-} ]] && stop_instance "$PENDING_INSTANCE"
    write_endpoints || true
    log "start failed (exit $rc); stopped the instances this call had started"
  fi
  exit "$rc"
}

extra_log_tail() {
  case $1 in
    proftpd) [[ -f $LOG_DIR/proftpd.tls.log ]] && printf '\n--- %s\n%s' "$LOG_DIR/proftpd.tls.log" "$(tail -10 "$LOG_DIR/proftpd.tls.log")" ;;
    vsftpd-*) [[ -f $LOG_DIR/$1.vsftpd.log ]] && printf '\n--- %s\n%s' "$LOG_DIR/$1.vsftpd.log" "$(tail -20 "$LOG_DIR/$1.vsftpd.log")" ;;
  esac
  return 0
}

# pids of every process whose executable lives under $PKGS, that runs one of our launchers, or
# that is a socat of ours (see is_our_process)
stray_pids() {
  local p exe cmd
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    if [[ $exe == "$PKGS/"* ]]; then
      echo "${p#/proc/}"
    elif [[ $exe == */python3* || $exe == */node || $exe == */socat ]]; then
      cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
      is_our_cmdline "$exe" "$cmd" && echo "${p#/proc/}"
    fi
  done
  return 0
}

# alive = exists and is not a zombie (our servers are re-parented to PID 1 once the
# starting shell exits, and PID 1 may take a few seconds to reap them)
proc_alive() {
  local state
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

wait_gone() {  # timeout_seconds pid...
  local deadline=$((SECONDS + $1)) p busy
  shift
  while :; do
    busy=0
    for p in "$@"; do proc_alive "$p" && { busy=1; break; }; done
    ((busy == 0)) && return 0
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

stop_instance() {
  local inst=$1 pid pf
  pf=$(pidfile_of "$inst")
  if pid=$(instance_pid "$inst"); then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$STOP_TIMEOUT" "$pid"; then
      log "$inst (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT}s: SIGKILL"
    fi
    kill -KILL -- "-$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
    log "$inst stopped (pid $pid)"
  fi
  rm -f "$pf"
}

# session processes of a server (everything of ours running its binary except the
# listeners). Ended first, so that the listeners can still reap them.
session_pids() {  # server
  local p exe listeners=" " inst lp
  for inst in $(instances_of "$1"); do
    lp=$(instance_pid "$inst") && listeners+="$lp "
  done
  case $1 in pyftpdlib|aioftp|twisted|nodeftpd) return 0 ;; esac  # one process, no per-session children
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    [[ $exe == "$PKGS/$1/"* && $listeners != *" ${p#/proc/} "* ]] && echo "${p#/proc/}"
  done
  return 0
}

stop_server() {  # server
  local sessions inst
  mapfile -t sessions < <(session_pids "$1")
  if [[ ${#sessions[@]} -gt 0 ]]; then
    kill -TERM "${sessions[@]}" 2>/dev/null || true
    wait_gone 3 "${sessions[@]}" || kill -KILL "${sessions[@]}" 2>/dev/null || true
  fi
  for inst in $(instances_of "$1"); do stop_instance "$inst"; done
}

validate_servers() {
  local s k ok
  for s in "$@"; do
    ok=0
    for k in "${ALL_SERVERS[@]}"; do [[ $s == "$k" ]] && ok=1; done
    [[ $ok == 1 ]] || die "unknown server '$s' (known: ${ALL_SERVERS[*]})"
  done
}

selected_servers() {  # args -> server names (validate_servers first, in the main shell)
  if [[ $# -eq 0 ]]; then printf '%s\n' "${ALL_SERVERS[@]}"; return; fi
  printf '%s\n' "$@"
}

server_running() {  # all instances up
  local i
  for i in $(instances_of "$1"); do instance_pid "$i" >/dev/null || return 1; done
}

cmd_start() {
  need_root start
  local servers
  mapfile -t servers < <(selected_servers "$@")
  if ! installed_ok; then
    log "servers not installed yet: running 'install' first"
    cmd_install
  fi
  lock
  trap start_cleanup EXIT
  mkdir -p "$CONF_DIR" "$DATA_DIR" "$RUN_DIR" "$LOG_DIR"
  chmod 0755 "$BASE" "$CONF_DIR" "$RUN_DIR" "$LOG_DIR" "$DATA_DIR"
  ensure_tls
  local s inst
  for s in "${servers[@]}"; do
    ensure_data_root "$s"
    if server_running "$s"; then log "$s already running"; continue; fi
    case $s in
      vsftpd) prepare_vsftpd ;;
      pure-ftpd) prepare_pureftpd ;;
      proftpd) prepare_proftpd ;;
      inetutils|netkit) prepare_inetd "$s" ;;
    esac
    for inst in $(instances_of "$s"); do start_instance "$inst"; done
  done
  PENDING_INSTANCE=
  check_loopback_only
  write_endpoints
  trap - EXIT
  log "endpoints: $ENDPOINTS"
}

# Safety net: none of our processes may listen on a non-loopback address.
check_loopback_only() {
  command -v ss >/dev/null || return 0
  local pids bad
  pids=$(stray_pids | paste -sd'|' -)
  [[ -n $pids ]] || return 0
  bad=$(ss -Hltnp 2>/dev/null | grep -E "pid=($pids)," | awk '{print $4}' \
        | grep -vE '^(127\.[0-9.]+|\[::1\]|::1):[0-9]+$' || true)
  if [[ -n $bad ]]; then
    cmd_stop_all_locked
    die "a server listened on a non-loopback address ($bad); everything stopped"
  fi
}

cmd_stop_all_locked() {
  local s
  for s in "${ALL_SERVERS[@]}"; do stop_server "$s"; done
}

cmd_stop() {
  local servers s inst
  mapfile -t servers < <(selected_servers "$@")
  [[ -d $BASE ]] || { log "nothing to stop"; return 0; }
  lock
  for s in "${servers[@]}"; do stop_server "$s"; done
  if [[ $# -eq 0 ]]; then
    # sweep: processes of ours that escaped their process group or lost their pidfile
    local pids p tries=0
    while pids=$(stray_pids) && [[ -n $pids ]]; do
      ((tries == 0)) && log "killing leftover server processes: $(echo $pids)"
      for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
      ((++tries > 50)) && die "could not kill: $(echo $pids)"
      sleep 0.1
    done
    rm -f "/etc/pam.d/$VSFTPD_PAM_SERVICE" "$RUN_DIR"/proftpd.daemon.pid "$RUN_DIR"/proftpd.scoreboard*
  fi
  write_endpoints
}

cmd_status() {
  local servers s inst pid rc=0
  mapfile -t servers < <(selected_servers "$@")
  for s in "${servers[@]}"; do
    for inst in $(instances_of "$s"); do
      if pid=$(instance_pid "$inst"); then
        printf '%-20s running  pid %-7s %s\n' "$inst" "$pid" "$(listens_of "$inst" | awk '{printf "[%s]:%s ", $1, $2}')"
      else
        printf '%-20s stopped\n' "$inst"
        rc=3
      fi
    done
  done
  return $rc
}

cmd_env() {
  [[ -s $ENDPOINTS ]] || die "$ENDPOINTS does not exist: run 'bash servers/servers.sh start' first"
  echo "$ENDPOINTS"
  cat "$ENDPOINTS"
}

cmd_reset_data() {
  local servers s
  mapfile -t servers < <(selected_servers "$@")
  for s in "${servers[@]}"; do
    [[ -d $DATA_DIR/$s ]] || continue
    find "$DATA_DIR/$s" -mindepth 1 -delete
    log "emptied $DATA_DIR/$s"
  done
}

# ---------------------------------------------------------------------------- endpoints.json

write_endpoints() {
  local running=() s
  for s in "${ALL_SERVERS[@]}"; do server_running "$s" && running+=("$s"); done
  if [[ ${#running[@]} -eq 0 ]]; then rm -f "$ENDPOINTS"; return 0; fi
  local tmp="$ENDPOINTS.tmp.$$"
  RUNNING="${running[*]}" BASE="$BASE" TLS_DIR="$TLS_DIR" DATA_DIR="$DATA_DIR" LOG_DIR="$LOG_DIR" RUN_DIR="$RUN_DIR" \
  FTP_USER="$FTP_USER" FTP_PASS="$FTP_PASS" SCRIPT="$SCRIPT_DIR/servers.sh" PAM_SERVICE="$VSFTPD_PAM_SERVICE" \
  V_VSFTPD="$(server_version vsftpd)" P_VSFTPD="$(server_pkg_version vsftpd)" \
  V_PURE="$(server_version pure-ftpd)" P_PURE="$(server_pkg_version pure-ftpd)" \
  V_PRO="$(server_version proftpd)" P_PRO="$(server_pkg_version proftpd)" \
  V_PY="$(server_version pyftpdlib)" P_PY="$(server_pkg_version pyftpdlib)" \
  VSFTPD_PORT=$VSFTPD_PORT VSFTPD_IMPLICIT_PORT=$VSFTPD_IMPLICIT_PORT \
  VSFTPD_PASV=$VSFTPD_PASV VSFTPD_PASV_IMPLICIT=$VSFTPD_PASV_IMPLICIT \
  PUREFTPD_PORT=$PUREFTPD_PORT PUREFTPD_PASV=$PUREFTPD_PASV \
  PYFTPDLIB_PORT=$PYFTPDLIB_PORT PYFTPDLIB_IMPLICIT_PORT=$PYFTPDLIB_IMPLICIT_PORT PYFTPDLIB_PASV=$PYFTPDLIB_PASV \
  PROFTPD_PORT=$PROFTPD_PORT PROFTPD_IMPLICIT_PORT=$PROFTPD_IMPLICIT_PORT PROFTPD_PASV=$PROFTPD_PASV \
  V_AIO="$(server_version aioftp)" P_AIO="$(server_pkg_version aioftp)" \
  V_TW="$(server_version twisted)" P_TW="$(server_pkg_version twisted)" \
  V_INET="$(server_version inetutils)" P_INET="$(server_pkg_version inetutils)" \
  V_NODE="$(server_version nodeftpd)" P_NODE="npm ftpd $(server_pkg_version nodeftpd) on Node $(node -v 2>/dev/null)" \
  V_NETKIT="$(server_version netkit)" P_NETKIT="$(server_pkg_version netkit)" \
  AIOFTP_PORT=$AIOFTP_PORT AIOFTP_IMPLICIT_PORT=$AIOFTP_IMPLICIT_PORT AIOFTP_PASV=$AIOFTP_PASV \
  AIOFTP_PASV_IMPLICIT=$AIOFTP_PASV_IMPLICIT TWISTED_PORT=$TWISTED_PORT TWISTED_PASV=$TWISTED_PASV \
  INETUTILS_PORT=$INETUTILS_PORT NODEFTPD_PORT=$NODEFTPD_PORT NODEFTPD_PASV=$NODEFTPD_PASV NETKIT_PORT=$NETKIT_PORT \
  "$SYS_PYTHON" - "$tmp" <<'PY'
import json, os, sys, datetime
E = os.environ

def rng(s):
    a, b = s.split("-")
    return [int(a), int(b)]

def ep(host, port, tls, passive):
    return {"host": host, "port": int(port), "family": 6 if ":" in host else 4,
            "tls": tls, "passivePorts": rng(passive)}

with open("/proc/sys/net/ipv4/ip_local_port_range") as fh:
    EPHEMERAL = "-".join(fh.read().split())

# scope "core": the servers every real-server suite runs against; "interop": the ones only the
# interop matrix uses (each lacks much of what the core suites test).
def server(name, version, pkg, endpoints, features, notes, logs, pids, scope="core"):
    return {
        "name": name, "version": version, "package": pkg, "scope": scope,
        "user": E["FTP_USER"], "password": E["FTP_PASS"],
        "anonymous": features.pop("anonymous"),
        "root": os.path.join(E["DATA_DIR"], name),
        "ca": os.path.join(E["TLS_DIR"], "ca.pem"),
        "endpoints": endpoints, "features": features, "notes": notes,
        "logs": [os.path.join(E["LOG_DIR"], l) for l in logs],
        "pidfiles": [os.path.join(E["RUN_DIR"], p + ".pid") for p in pids],
    }

all_servers = {
  "vsftpd": server("vsftpd", E["V_VSFTPD"], E["P_VSFTPD"], [
      ep("127.0.0.1", E["VSFTPD_PORT"], "explicit", E["VSFTPD_PASV"]),
      ep("::1", E["VSFTPD_PORT"], "explicit", E["VSFTPD_PASV"]),
      ep("127.0.0.1", E["VSFTPD_IMPLICIT_PORT"], "implicit", E["VSFTPD_PASV_IMPLICIT"]),
      ep("::1", E["VSFTPD_IMPLICIT_PORT"], "implicit", E["VSFTPD_PASV_IMPLICIT"]),
    ], {"anonymous": False, "mlsd": False, "utf8": True, "implicitTls": True, "ipv6": True,
        "tlsSessionReuseRequired": True, "activeMode": True},
    "4 vsftpd processes (v4/v6 x explicit/implicit). Login: virtual user checked by pam_pwdfile (PAM service "
    + E["PAM_SERVICE"] + "), mapped to the locked nologin system account ftptest (created by the script), "
    "chrooted to root. require_ssl_reuse=YES: a TLS data connection that does not resume the control "
    "connection's TLS session gets 522 and vsftpd then CLOSES the control connection. No MLSD/MLST. "
    "OPTS UTF8 ON -> 200 Always in UTF8 mode. SIZE allowed in TYPE A. MKD reply: 257 \"/abs/path\" created. "
    "PASV on an IPv6 control connection -> 227 with 0,0,0,0 (use EPSV). EPSV ALL then PASV -> 550. "
    "TYPE A uploads are converted LF -> CRLF on disk (the others store bytes as sent). A second STOR to a file "
    "that is still being uploaded blocks until the first upload ends (lock_upload_files=YES default).",
    ["vsftpd-v4.log", "vsftpd-v6.log", "vsftpd-v4.vsftpd.log", "vsftpd-v6.vsftpd.log",
     "vsftpd-implicit-v4.vsftpd.log", "vsftpd-implicit-v6.vsftpd.log"],
    ["vsftpd-v4", "vsftpd-v6", "vsftpd-implicit-v4", "vsftpd-implicit-v6"]),
  "pure-ftpd": server("pure-ftpd", E["V_PURE"], E["P_PURE"], [
      ep("127.0.0.1", E["PUREFTPD_PORT"], "explicit", E["PUREFTPD_PASV"]),
      ep("::1", E["PUREFTPD_PORT"], "explicit", E["PUREFTPD_PASV"]),
    ], {"anonymous": False, "mlsd": True, "utf8": True, "implicitTls": False, "ipv6": True,
        "tlsSessionReuseRequired": False, "activeMode": True},
    "2 pure-ftpd processes (v4, v6). Virtual user in puredb (conf/pure-ftpd/pureftpd.pdb), uid nobody, chrooted. "
    "TLS optional (-Y 1); data connections need no TLS session reuse (and it does not resume them). "
    "Debian's build has no implicit TLS. Max 300 clients (pure-ftpd caps at half the passive range). "
    "Multi-line 220 greeting. OPTS UTF8 ON -> 504 Unknown command although FEAT lists UTF8. "
    "MKD reply is relative: 257 \"d\" : The directory was successfully created. SIZE allowed in TYPE A. "
    "PASV on IPv6 -> 425 (use EPSV). NLST lists dot files plus . and .., LIST hides dot files. Logs only to syslog "
    "(absent here) except the transfer log.",
    ["pure-ftpd-v4.log", "pure-ftpd-v6.log", "pure-ftpd-v4.xfer.log", "pure-ftpd-v6.xfer.log"],
    ["pure-ftpd-v4", "pure-ftpd-v6"]),
  "proftpd": server("proftpd", E["V_PRO"], E["P_PRO"], [
      ep("127.0.0.1", E["PROFTPD_PORT"], "explicit", E["PROFTPD_PASV"]),
      ep("::1", E["PROFTPD_PORT"], "explicit", E["PROFTPD_PASV"]),
      ep("127.0.0.1", E["PROFTPD_IMPLICIT_PORT"], "implicit", E["PROFTPD_PASV"]),
      ep("::1", E["PROFTPD_IMPLICIT_PORT"], "implicit", E["PROFTPD_PASV"]),
    ], {"anonymous": False, "mlsd": True, "utf8": True, "implicitTls": True, "ipv6": True,
        "tlsSessionReuseRequired": True, "activeMode": True},
    "One proftpd process (implicit FTPS is a VirtualHost on the same addresses). mod_tls.so comes from "
    "proftpd-mod-crypto. Virtual user via AuthUserFile (uid nobody), DefaultRoot ~. TLS data connections must "
    "resume the control connection's TLS session, else 425 (control connection stays usable). MLSD/MLST. "
    "OPTS UTF8 ON -> 200. UseEncoding UTF-8 UTF-8. SIZE in TYPE A -> 550 SIZE not allowed in ASCII mode. "
    "MKD reply: 257 \"/abs/path\" - Directory successfully created. PASV on IPv6 -> malformed 227 (use EPSV).",
    ["proftpd.log", "proftpd.commands.log", "proftpd.xfer.log", "proftpd.tls.log"],
    ["proftpd"]),
  "pyftpdlib": server("pyftpdlib", E["V_PY"], E["P_PY"], [
      ep("127.0.0.1", E["PYFTPDLIB_PORT"], "explicit", E["PYFTPDLIB_PASV"]),
      ep("::1", E["PYFTPDLIB_PORT"], "explicit", E["PYFTPDLIB_PASV"]),
      ep("127.0.0.1", E["PYFTPDLIB_IMPLICIT_PORT"], "implicit", E["PYFTPDLIB_PASV"]),
      ep("::1", E["PYFTPDLIB_IMPLICIT_PORT"], "implicit", E["PYFTPDLIB_PASV"]),
    ], {"anonymous": True, "mlsd": True, "utf8": True, "implicitTls": True, "ipv6": True,
        "tlsSessionReuseRequired": False, "activeMode": True},
    "One python process (servers/pyftpdlib_server.py, Debian python3-pyftpdlib 1.5.7 + backports of upstream "
    "fixes #613/#683; not of #612: clients that start the data TLS handshake before the 150 reply, as curl does, "
    "get a RST) with 4 listeners. DummyAuthorizer user (perm elradfmwMT); anonymous read-only. Runs as "
    "root, so files are owned by root. No TLS session reuse needed. OPTS UTF8 ON -> 501 Invalid argument. "
    "SIZE in TYPE A -> 550. MKD reply: 257 \"/abs/path\" directory created. PASV on IPv6 -> 227 (::1,p1,p2).",
    ["pyftpdlib.log"], ["pyftpdlib"]),
  "aioftp": server("aioftp", E["V_AIO"], E["P_AIO"], [
      ep("127.0.0.1", E["AIOFTP_PORT"], "none", E["AIOFTP_PASV"]),
      ep("::1", E["AIOFTP_PORT"], "none", E["AIOFTP_PASV"]),
      ep("127.0.0.1", E["AIOFTP_IMPLICIT_PORT"], "implicit", E["AIOFTP_PASV_IMPLICIT"]),
      ep("::1", E["AIOFTP_IMPLICIT_PORT"], "implicit", E["AIOFTP_PASV_IMPLICIT"]),
    ], {"anonymous": False, "mlsd": True, "utf8": True, "implicitTls": True, "ipv6": True,
        "tlsSessionReuseRequired": False, "activeMode": False},
    "One python process (servers/aioftp_server.py, Debian python3-aioftp) with 4 listeners: plain and "
    "implicit FTPS (aioftp's ssl=; no AUTH TLS: 502). Runs as root. Commands: USER PASS PWD CWD CDUP MKD RMD "
    "DELE RNFR RNTO LIST MLSD MLST RETR STOR APPE REST TYPE PASV EPSV PBSZ PROT ABOR SYST QUIT; everything "
    "else, NOOP, NLST, SIZE, PORT, EPRT and FEAT included, gets 502 '<cmd>' not implemented. No active mode. "
    "ABOR during RETR: 426 transfer aborted + 226 abort successful (or, if the file was already sent, "
    "226 data transfer done + 226 nothing to abort). PASV answers with a multi-line 227. MKD reply: 257 \"\" "
    "(empty path).",
    ["aioftp.log"], ["aioftp"], scope="interop"),
  "twisted": server("twisted", E["V_TW"], E["P_TW"], [
      ep("127.0.0.1", E["TWISTED_PORT"], "none", E["TWISTED_PASV"]),
    ], {"anonymous": False, "mlsd": False, "utf8": False, "implicitTls": False, "ipv6": False,
        "tlsSessionReuseRequired": False, "activeMode": True},
    "One python process (servers/twisted_ftp_server.py: twisted.protocols.ftp, a one-user credentials "
    "checker, a realm giving the data root as a writable home). Runs as root. IPv4 only: it has no EPSV or "
    "EPRT, and its PASV on an IPv6 connection answers 227 Entering Passive Mode (::1,p1,p2). No TLS, REST, "
    "ABOR, APPE, MLSD (502 Command 'X' not implemented). NLST without an argument: 500 Syntax error: NLST "
    "requires an argument. Names are latin-1 on the wire.",
    ["twisted.log"], ["twisted"], scope="interop"),
  "inetutils": server("inetutils", E["V_INET"], E["P_INET"], [
      ep("127.0.0.1", E["INETUTILS_PORT"], "none", EPHEMERAL),
      ep("::1", E["INETUTILS_PORT"], "none", EPHEMERAL),
    ], {"anonymous": False, "mlsd": False, "utf8": False, "implicitTls": False, "ipv6": True,
        "tlsSessionReuseRequired": False, "activeMode": True},
    "GNU inetutils-ftpd (unpacked .deb), inetd-style: socat per address, one ftpd per connection, inside a "
    "mount namespace whose passwd/shadow make ftptest a user with uid nobody and home = root (-a default: "
    "crypt, not PAM). No chroot: PWD shows the real path of the data root. No TLS (AUTH: 502), no MLSD. "
    "SIZE in TYPE A counts the CRLF expansion. ABOR with no transfer: 225. Passive ports: kernel-chosen, on "
    "the control connection's address. The 230 reply carries /etc/motd.",
    ["inetutils-v4.log", "inetutils-v6.log"], ["inetutils-v4", "inetutils-v6"], scope="interop"),
  "nodeftpd": server("nodeftpd", E["V_NODE"], E["P_NODE"], [
      ep("127.0.0.1", E["NODEFTPD_PORT"], "none", E["NODEFTPD_PASV"]),
      ep("::1", E["NODEFTPD_PORT"], "none", E["NODEFTPD_PASV"]),
    ], {"anonymous": False, "mlsd": False, "utf8": True, "implicitTls": False, "ipv6": True,
        "tlsSessionReuseRequired": False, "activeMode": True},
    "One node process (tooling/test-servers/nodeftpd-server.js, npm ftpd 0.2.16) with 2 listeners; passive "
    "sockets bound to the control connection's address. Runs as root. No TLS: with TLS configured, AUTH TLS "
    "makes the whole process exit under Node 20 (TypeError in starttls.js, tls.createSecurePair). No ABOR, "
    "REST, MLSD (502). ABOR during RETR: 502, the transfer goes on, its 226 comes after the replies to the "
    "commands that follow. Each TCP read is parsed as ONE command: two commands in one write get one 502. "
    "EPRT |2| (IPv6 active): 522. 150 says ASCII mode whatever the TYPE.",
    ["nodeftpd.log"], ["nodeftpd"], scope="interop"),
  "netkit": server("netkit", E["V_NETKIT"], E["P_NETKIT"], [
      ep("127.0.0.1", E["NETKIT_PORT"], "none", EPHEMERAL),
      ep("::1", E["NETKIT_PORT"], "none", EPHEMERAL),
    ], {"anonymous": False, "mlsd": False, "utf8": False, "implicitTls": False, "ipv6": True,
        "tlsSessionReuseRequired": False, "activeMode": True},
    "netkit ftpd 0.17 from Debian's ftpd-ssl (unpacked .deb), inetd-style like inetutils (PAM service ftp "
    "inside its namespace: pam_ftp + pam_unix). Plain only (-z nossl): its TLS never loads the certificate "
    "(-z cert= and the default /etc/ftpd-ssl/ftpd.pem are never opened), so AUTH TLS gets 234 and the "
    "handshake then fails (no shared cipher, 421). No FEAT, MLSD, OPTS. No chroot: PWD shows the real path. "
    "SIZE in TYPE A counts the CRLF expansion. ABOR with no transfer: 226 ABOR command caused no action.",
    ["netkit-v4.log", "netkit-v6.log"], ["netkit-v4", "netkit-v6"], scope="interop"),
}

out = {
  "generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
  "script": E["SCRIPT"],
  "ca": os.path.join(E["TLS_DIR"], "ca.pem"),
  "certificate": {"cert": os.path.join(E["TLS_DIR"], "server.pem"),
                  "key": os.path.join(E["TLS_DIR"], "server.key"),
                  "subject": "CN=localhost", "san": ["DNS:localhost", "IP:127.0.0.1", "IP:::1"]},
  "servers": [all_servers[n] for n in E["RUNNING"].split()],
}
with open(sys.argv[1], "w") as fh:
    json.dump(out, fh, indent=2)
    fh.write("\n")
PY
  mv -f "$tmp" "$ENDPOINTS"
}

# ---------------------------------------------------------------------------- main

usage() {
  sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  case $cmd in
    start|stop|restart|status|reset-data) validate_servers "$@" ;;
  esac
  case $cmd in
    install) cmd_install "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    restart) cmd_stop "$@"; cmd_start "$@" ;;
    status) cmd_status "$@" ;;
    env) cmd_env ;;
    reset-data) cmd_reset_data "$@" ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
