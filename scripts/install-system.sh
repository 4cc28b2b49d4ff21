#!/usr/bin/env bash
# install-system.sh — lays heartbeat-ts out on a system as Heartbeat's
# Debian package does, so that the commands and files an administrator
# knows are where they expect them:
#
#   /etc/ha.d/{ha.cf,authkeys (0600),haresources,…}  samples from ha.d/, NEVER
#                                      overwritten (not even with --force)
#   /etc/ha.d/resource.d/*             resource scripts from resource.d/; an
#                                      existing script is kept unless --force
#                                      (then saved as <name>.heartbeat-ts-orig
#                                      and put back by the uninstall)
#   /etc/init.d/heartbeat              LSB init script        (same rule)
#   /etc/systemd/system/heartbeat.service  systemd unit       (same rule)
#   /usr/sbin/heartbeat                the daemon             (same rule)
#   /usr/bin/{cl_status,hb_status,hb_standby,hb_takeover,hb_rsctest,hb2pcmk}   (same rule)
#   /usr/share/heartbeat/{hb_standby,hb_takeover}  links, only where absent
#   /usr/lib/heartbeat-ts/             the application: dist/, the production
#                                      node_modules, package.json, bin/
#   /usr/lib/heartbeat-ts/installed-files  what was installed (manifest), read
#                                      by uninstall-system.sh (installed beside it)
#   /var/lib/heartbeat                 created if missing (and, with --prefix,
#                                      var/run/heartbeat, var/lock/subsys, var/log)
#
# Usage: install-system.sh [--root DIR | --prefix DIR] [--force] [--node PATH]
#   --root DIR    install into DIR as if it were / (a chroot or image being
#                 built): every path inside points at its final location.
#   --prefix DIR  a relocated installation under DIR that runs from there:
#                 DIR/etc/ha.d, DIR/var/lib/heartbeat, DIR/var/run/heartbeat,
#                 DIR/var/run/heartbeat.pid are compiled into the wrappers and
#                 the init script (no other file on the system is touched).
#   --force       replace existing scripts and programs (saving them first).
#   --node PATH   the node binary the wrappers run (default: `command -v node`).
# The default is --root /. Run `npm run build` first.
set -euo pipefail

die() { echo "install-system: $*" >&2; exit 1; }
say() { echo "install-system: $*"; }

ROOT=/
PREFIX=
FORCE=0
NODE_BIN=
while [ $# -gt 0 ]; do
  case $1 in
    --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$2; shift 2 ;;
    --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; PREFIX=$2; shift 2 ;;
    --force) FORCE=1; shift ;;
    --node) [ $# -ge 2 ] || die "--node needs a path"; NODE_BIN=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
if [ -n "$PREFIX" ]; then
  [ "$ROOT" = / ] || die "--root and --prefix exclude each other"
  case $PREFIX in /*) ;; *) die "--prefix must be an absolute path, got '$PREFIX'" ;; esac
  ROOT=$PREFIX
fi
case $ROOT in /*) ;; *) die "--root must be an absolute path, got '$ROOT'" ;; esac
R=${ROOT%/}                      # "" when installing into /
FINAL=${PREFIX%/}                # where the installed paths point ("" unless --prefix)

REPO=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
[ -f "$REPO/dist/daemon/heartbeat.js" ] || die "$REPO/dist is missing: run 'npm run build' first"
[ -n "$NODE_BIN" ] || NODE_BIN=$(command -v node || true)
[ -n "$NODE_BIN" ] || die "no node binary found: pass --node PATH"
NODE_BIN=$(readlink -f "$NODE_BIN")
[ -x "$NODE_BIN" ] || die "node binary $NODE_BIN is not executable"

LIB=/usr/lib/heartbeat-ts
MANIFEST=$R$LIB/installed-files
ORIG_SUFFIX=.heartbeat-ts-orig
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
NEW_MANIFEST=$STAGE/manifest

# Entries of an earlier installation, so that a reinstall keeps owning what
# it installed before (samples it now leaves alone, directories, backups).
declare -A OLD=() OLDB=()
if [ -f "$MANIFEST" ]; then
  while IFS=$'\t' read -r kind data path; do
    [ -n "$path" ] || continue
    if [ "$kind" = b ]; then OLDB[$path]=$data; else OLD[$path]="$kind"$'\t'"$data"; fi
  done < "$MANIFEST"
fi

record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$NEW_MANIFEST"; }
carry_over() {   # keep an earlier manifest line for a path left untouched now
  if [ -n "${OLD[$1]:-}" ]; then printf '%s\t%s\n' "${OLD[$1]}" "$1" >> "$NEW_MANIFEST"; fi
}
sha() { sha256sum "$1" | cut -d' ' -f1; }

# Creates REL (relative to the root) and its missing parents; records the
# ones it created. KIND s = a state directory (uninstall --purge empties it).
ensure_dir() {
  local rel=$1 kind=${2:-d} cur=""
  local IFS=/
  for part in $rel; do
    [ -n "$part" ] || continue
    cur="$cur/$part"
    if [ ! -d "$R$cur" ]; then
      mkdir -m 755 "$R$cur"
      if [ "$cur" = "$rel" ]; then record "$kind" - "$cur"; else record d - "$cur"; fi
    elif [ -n "${OLD[$cur]:-}" ]; then
      carry_over "$cur"
      unset "OLD[$cur]"
    fi
  done
}

# install_file SRC REL MODE POLICY
#   POLICY sample  : never replace an existing file   (manifest kind c)
#          script  : replace only with --force, saving the original (kind f)
#          program : our own tree, always replaced    (kind f)
install_file() {
  local src=$1 rel=$2 mode=$3 policy=$4 dst=$R$2 kind=f
  [ "$policy" = sample ] && kind=c
  ensure_dir "$(dirname "$rel")"
  if [ -e "$dst" ] || [ -L "$dst" ]; then
    local ours=0
    [ -n "${OLD[$rel]:-}" ] && ours=1
    if [ "$policy" = sample ]; then
      [ $ours = 1 ] || say "kept existing $rel"
      carry_over "$rel"
      return
    fi
    if [ "$policy" = script ] && [ $ours = 0 ]; then
      if [ $FORCE = 0 ]; then
        say "kept existing $rel (--force replaces it)"
        return
      fi
      [ ! -e "$dst$ORIG_SUFFIX" ] || die "$rel$ORIG_SUFFIX already exists: move it away before replacing $rel"
      mv "$dst" "$dst$ORIG_SUFFIX"
      record b "$rel$ORIG_SUFFIX" "$rel"
      say "replaced $rel (original saved as $rel$ORIG_SUFFIX)"
    elif [ -n "${OLDB[$rel]:-}" ]; then
      record b "${OLDB[$rel]}" "$rel"
    fi
    rm -f "$dst"
  fi
  install -m "$mode" "$src" "$dst"
  record "$kind" "$(sha "$dst")" "$rel"
}

install_link() {   # install_link TARGET REL: only where nothing is
  local target=$1 rel=$2
  ensure_dir "$(dirname "$rel")"
  if [ -e "$R$rel" ] || [ -L "$R$rel" ]; then
    if [ -n "${OLD[$rel]:-}" ]; then carry_over "$rel"; else say "kept existing $rel"; fi
    return
  fi
  ln -s "$target" "$R$rel"
  record l "$target" "$rel"
}

# Our own tree under $LIB, in bulk (hundreds of files): paths relative to the
# repository, listed in a file; always replaced.
install_program_tree() {
  local list=$1
  sed -n 's|/[^/]*$||p' "$list" | sort -u > "$STAGE/tree-dirs"
  while read -r d; do ensure_dir "$LIB/$d"; done < "$STAGE/tree-dirs"
  (cd "$REPO" && tar -cf - --no-recursion -T "$list") | (cd "$R$LIB" && tar -xf - --no-same-owner)
  (cd "$R$LIB" && tr '\n' '\0' < "$list" | xargs -0 sha256sum) > "$STAGE/tree-sums"
  while read -r sum path; do record f "$sum" "$LIB/$path"; done < "$STAGE/tree-sums"
}

# ---------------------------------------------------------------- the application
ensure_dir "$LIB"
# With the compiled addons (peer credentials of API clients, raw ICMP for ping media).
(cd "$REPO" && { find dist -type f ! -name '*.map'; find native/build/Release -maxdepth 1 -type f -name '*.node' 2>/dev/null; } | sort) > "$STAGE/dist-files"
install_program_tree "$STAGE/dist-files"
install_file "$REPO/package.json" "$LIB/package.json" 644 program
for t in heartbeat cl_status hb_status hb_standby hb_takeover hb_rsctest hb2pcmk ipfail; do install_file "$REPO/bin/$t" "$LIB/bin/$t" 755 program; done
install_file "$REPO/packaging/ocf/hbscript" "$LIB/packaging/ocf/hbscript" 755 program
install_file "$REPO/scripts/uninstall-system.sh" "$LIB/uninstall-system.sh" 755 program
# Production dependencies only (no compilers or test runners).
(cd "$REPO" && npm ls --omit=dev --parseable --all 2>/dev/null | sed -n "s|^$REPO/||p" | grep '^node_modules/' | sort -u) > "$STAGE/deps" || true
[ -s "$STAGE/deps" ] || die "cannot list the production dependencies (npm ls --omit=dev failed): run 'npm ci' first"
while read -r d; do
  (cd "$REPO" && find "$d" -path "$d/node_modules" -prune -o -type f -print)
done < "$STAGE/deps" | sort -u > "$STAGE/dep-files"
install_program_tree "$STAGE/dep-files"

# ---------------------------------------------------------------- commands
wrapper() {   # wrapper TOOL: the script put on PATH
  {
    echo '#!/bin/sh'
    echo "# $1 of heartbeat-ts (written by install-system.sh)"
    echo "HEARTBEAT_TS_NODE=\${HEARTBEAT_TS_NODE:-$NODE_BIN}"
    echo 'export HEARTBEAT_TS_NODE'
    if [ -n "$FINAL" ]; then
      echo "HA_DIR=\${HA_DIR:-$FINAL/etc/ha.d}"
      echo "HA_VARLIB=\${HA_VARLIB:-$FINAL/var/lib/heartbeat}"
      echo "HA_VARRUN=\${HA_VARRUN:-$FINAL/var/run/heartbeat}"
      echo "HA_PIDFILE=\${HA_PIDFILE:-$FINAL/var/run/heartbeat.pid}"
      echo "HA_INITDIR=\${HA_INITDIR:-$FINAL/etc/init.d}"
      echo 'export HA_DIR HA_VARLIB HA_VARRUN HA_PIDFILE HA_INITDIR'
    fi
    if [ "$1" != heartbeat ]; then
      echo 'HEARTBEAT_TS_ARGV0=${HEARTBEAT_TS_ARGV0:-$0}'
      echo 'export HEARTBEAT_TS_ARGV0'
    fi
    echo "exec $FINAL$LIB/bin/$1 \"\$@\""
  } > "$STAGE/$1"
}
wrapper heartbeat
install_file "$STAGE/heartbeat" /usr/sbin/heartbeat 755 script
for t in cl_status hb_status hb_standby hb_takeover hb_rsctest hb2pcmk; do
  wrapper $t
  install_file "$STAGE/$t" "/usr/bin/$t" 755 script
  # Where Heartbeat keeps hb_standby/hb_takeover ($HA_NOARCHBIN), for users' rc.d scripts.
  [ $t = cl_status ] || [ $t = hb_status ] || [ $t = hb_rsctest ] || [ $t = hb2pcmk ] || install_link "$FINAL/usr/bin/$t" "/usr/share/heartbeat/$t"
done

# ---------------------------------------------------------------- init script, unit
awk -v final="$FINAL" '
  /^# --- paths/ { print; skip = 1
    print "HEARTBEAT=${HEARTBEAT_TS_DAEMON:-" final "/usr/sbin/heartbeat}"
    print "HB_STANDBY=${HEARTBEAT_TS_STANDBY:-" final "/usr/bin/hb_standby}"
    print "HA_DIR=${HA_DIR:-" final "/etc/ha.d}"
    print "RUNDIR=" (final == "" ? "/var/run" : final "/var/run")
    print "LOCKDIR=" (final == "" ? "/var/lock/subsys" : final "/var/lock/subsys")
    next }
  /^# --- end of paths/ { skip = 0 }
  !skip { print }' "$REPO/daemon/init.d/heartbeat" > "$STAGE/init"
install_file "$STAGE/init" /etc/init.d/heartbeat 755 script
if [ -n "$FINAL" ]; then PIDFILE=$FINAL/var/run/heartbeat.pid; else PIDFILE=/run/heartbeat.pid; fi
sed -e "s|/usr/sbin/heartbeat|$FINAL/usr/sbin/heartbeat|g" -e "s|^PIDFile=.*|PIDFile=$PIDFILE|" \
    "$REPO/daemon/heartbeat.service" > "$STAGE/unit"
install_file "$STAGE/unit" /etc/systemd/system/heartbeat.service 644 script

# ---------------------------------------------------------------- /etc/ha.d
for f in "$REPO"/ha.d/*; do
  [ -f "$f" ] || continue
  mode=644; [ "$(basename "$f")" = authkeys ] && mode=600
  install_file "$f" "/etc/ha.d/$(basename "$f")" $mode sample
done
for f in "$REPO"/resource.d/*; do
  [ -f "$f" ] || continue
  case $(basename "$f") in *.md) continue ;; esac
  mode=644; [ -x "$f" ] && mode=755
  install_file "$f" "/etc/ha.d/resource.d/$(basename "$f")" $mode script
done
ensure_dir /etc/ha.d/rc.d

# ---------------------------------------------------------------- state
ensure_dir /var/lib/heartbeat s
if [ -n "$FINAL" ]; then
  ensure_dir /var/run/heartbeat s
  ensure_dir /var/lock/subsys s
  ensure_dir /var/log s
fi

# Directories an earlier installation created and this one did not revisit.
for p in "${!OLD[@]}"; do
  case ${OLD[$p]%%$'\t'*} in d|s) [ -d "$R$p" ] && ! grep -q $'\t'"$p\$" "$NEW_MANIFEST" && carry_over "$p" ;; esac
done
install -m 644 "$NEW_MANIFEST" "$MANIFEST"
say "installed heartbeat-ts into ${ROOT} ($(wc -l < "$MANIFEST") entries in $LIB/installed-files)"
