#!/usr/bin/env bash
# Installs the Debian 12 packages the test suite and the network lab
# (devtools/lab: demo, benchmarks, netns tests, `npm run lab`) need, once.
# Idempotent and fast when everything is present: one dpkg-query call, no apt
# activity. Runs `apt-get update` once, and only when something is missing.
# Never starts heartbeat on the host (only lab nodes run it) and never stops a
# process it did not start.
set -euo pipefail

# package  command-that-must-exist-afterwards ("-" = package check only)
PACKAGES=(
  "heartbeat       /usr/libexec/heartbeat/heartbeat"
  "cluster-glue    stonith"     # STONITH: the stonith command, its plugins and meatclient
  "resource-agents -"
  "net-tools       ifconfig"   # IPaddr runs ifconfig; a Recommends we do not install blindly
  "socat           socat"
  "nftables        nft"
  "iproute2        ip"
  "iputils-arping  arping"     # not `arping`: the two packages conflict
  "tcpdump         tcpdump"     # lab captures
  "inetutils-ping  ping"        # lab reachability checks, the bench's VIP ping (an installed iputils-ping does too)
  "perl-base       perl"        # the lab nodes' init (reaps orphans as PID 1); Essential, listed to be explicit
  "e2fsprogs       mkfs.ext4"
  "psmisc          fuser"
  "procps          ps"
  "util-linux      nsenter"     # and unshare: the lab's node namespaces
  "python3         /usr/bin/python3"   # web servers of test fixtures (http.server)
  "busybox         busybox"     # npm run bench: the service group's small web server (busybox httpd)
  "curl            curl"
  "kmod            modprobe"    # Debian's Filesystem agent refuses to run without modprobe
  "ipvsadm         ipvsadm"     # ldirectord: the IPVS data plane command lines are checked against it
  "iptables        iptables"    # Debian's portblock (test/netns/rsctest-scripts.test.ts)
  "bsd-mailx       mail"        # Debian's MailTo sends with mail(1)
  "dpkg-dev        dpkg-shlibdeps"   # npm run package: the .deb's shared-library Depends
  "binutils        strip"       # npm run package: strips the native addons
  "lintian         lintian"     # package.test.ts checks the .deb
  "corosync        corosync"    # hb2pcmk's output run for real (pcmk-migration.test.ts)
  "pacemaker       pacemakerd"
  "pacemaker-cli-utils crm_mon"   # crm_mon, cibadmin: the Pacemaker side of pcmk-migration.test.ts (a Recommends of pacemaker, not installed with it here)
  "prometheus      prometheus"  # scrapes the daemon's /metrics (test/netns/http-observe.test.ts)
  "chromium        chromium"    # the live status page in a real headless browser (test/netns/http-observe.test.ts)
  "keepalived      keepalived"  # npm run bench: VRRPv3 column (lab nodes only; the host unit needs /etc/keepalived/keepalived.conf, never written)
)

log() { echo "ensure-os-packages: $*" >&2; }

missing=()
names=()
for entry in "${PACKAGES[@]}"; do
  read -r pkg cmd <<<"$entry"
  names+=("$pkg")
  if [ "$cmd" != - ] && ! PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1; then
    missing+=("$pkg")
  fi
done
# dpkg's own view: "ii" = installed and configured. Unknown packages print
# nothing on stdout (an error on stderr), so they count as missing too.
installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${names[@]}" 2>/dev/null | awk '$1 == "ii" { print $2 }' || true)
for pkg in "${names[@]}"; do
  grep -qx -- "$pkg" <<<"$installed" || missing+=("$pkg")
done
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u | sed '/^$/d')

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  log "missing packages: ${missing[*]} (run as root to install them)"
  exit 1
fi

log "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive

# Keep services from starting during the install: a policy-rc.d answering 101
# makes invoke-rc.d (and deb-systemd-invoke) skip every start. Only ours is
# removed afterwards; an existing one is left as it was.
POLICY=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\n# temporary, written by heartbeat-ts scripts/ensure-os-packages.sh\nexit 101\n' >"$POLICY"
  chmod 755 "$POLICY"
  own_policy=1
fi
cleanup() { if [ "$own_policy" = 1 ]; then rm -f "$POLICY"; fi; }
trap cleanup EXIT

# another apt run (a colleague's, unattended-upgrades) may hold the lock for a while
APT_OPTS=(-o DPkg::Lock::Timeout=300)
apt-get "${APT_OPTS[@]}" update -qq
# --no-install-recommends: heartbeat recommends pacemaker and a syslog daemon,
# which would start cluster services on the host.
apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null

# Verify: every package installed, every command present.
fail=0
for entry in "${PACKAGES[@]}"; do
  read -r pkg cmd <<<"$entry"
  if ! dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null | grep -q '^ii'; then
    log "package $pkg is still not installed"; fail=1
  elif [ "$cmd" != - ] && ! PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1; then
    log "package $pkg is installed but $cmd is missing"; fail=1
  fi
done

# A heartbeat (or keepalived) running in the host's own network namespace would
# answer on the host's interfaces: report it, but it is not ours to stop.
# (keepalived's init script and unit do nothing without
# /etc/keepalived/keepalived.conf, which nothing here writes.)
host_net=$(readlink /proc/1/ns/net 2>/dev/null || true)
for p in /proc/[0-9]*; do
  exe=$(readlink "$p/exe" 2>/dev/null || true)
  case "$exe" in /usr/libexec/heartbeat/heartbeat|/usr/sbin/keepalived) ;; *) continue ;; esac
  [ "$(readlink "$p/ns/net" 2>/dev/null || true)" = "$host_net" ] || continue
  log "WARNING: a ${exe##*/} process runs on the host (pid ${p#/proc/}); it was not started by this script and is left alone"
done

exit "$fail"
