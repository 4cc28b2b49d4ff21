#!/usr/bin/env bash
# uninstall-system.sh — removes what install-system.sh installed, using its
# manifest <root>/usr/lib/heartbeat-ts/installed-files, and nothing else:
#   * installed files and links are removed; a configuration sample the
#     administrator changed since (ha.cf, authkeys, …) is kept and named;
#   * files install-system replaced with --force get their originals back;
#   * directories it created are removed when empty; with --purge the state
#     directories it created (/var/lib/heartbeat, and under --prefix
#     var/run/heartbeat, var/lock/subsys and var/log) are emptied first and
#     changed samples are removed too.
# Files it did not create stay, whatever they are.
#
# Usage: uninstall-system.sh [--root DIR | --prefix DIR] [--purge]
# (the same --root/--prefix as the installation; default /). Stop the
# daemon first: a running heartbeat-ts is refused.
set -euo pipefail

die() { echo "uninstall-system: $*" >&2; exit 1; }
say() { echo "uninstall-system: $*"; }

main() {
  local root=/ purge=0
  while [ $# -gt 0 ]; do
    case $1 in
      --root|--prefix) [ $# -ge 2 ] || die "$1 needs a directory"; root=$2; shift 2 ;;
      --purge) purge=1; shift ;;
      -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
      *) die "unknown argument '$1' (see --help)" ;;
    esac
  done
  case $root in /*) ;; *) die "the root must be an absolute path, got '$root'" ;; esac
  local R=${root%/}
  local manifest=$R/usr/lib/heartbeat-ts/installed-files
  [ -f "$manifest" ] || die "no installation manifest at $manifest"

  # A daemon of this installation still running would lose its program files.
  local pidfile
  for pidfile in "$R/var/run/heartbeat.pid" "$R/run/heartbeat.pid"; do
    if [ -f "$pidfile" ]; then
      local pid
      pid=$(tr -dc 0-9 < "$pidfile")
      if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "$R/usr/lib/heartbeat-ts/"; then
        die "heartbeat-ts is running (pid $pid): stop it first (/etc/init.d/heartbeat stop)"
      fi
    fi
  done

  local kind data path dst
  local -a dirs=() states=() backups=()
  while IFS=$'\t' read -r kind data path; do
    [ -n "$path" ] || continue
    dst=$R$path
    case $kind in
      f|c)
        [ -f "$dst" ] || continue
        if [ "$(sha256sum "$dst" | cut -d' ' -f1)" = "$data" ] || { [ "$kind" = c ] && [ $purge = 1 ]; }; then
          rm -f "$dst"
        elif [ "$kind" = c ]; then
          say "kept $path: changed since it was installed (--purge removes it)"
        else
          say "kept $path: changed since it was installed"
        fi
        ;;
      l) if [ -L "$dst" ] && [ "$(readlink "$dst")" = "$data" ]; then rm -f "$dst"; fi ;;
      b) backups+=("$data"$'\t'"$path") ;;
      d) dirs+=("$path") ;;
      s) states+=("$path"); dirs+=("$path") ;;
      *) say "ignored unknown manifest entry '$kind' for $path" ;;
    esac
  done < "$manifest"

  local b
  for b in "${backups[@]+"${backups[@]}"}"; do
    local saved=${b%%$'\t'*} orig=${b#*$'\t'}
    if [ -e "$R$saved" ] && [ ! -e "$R$orig" ]; then mv "$R$saved" "$R$orig"; say "restored $orig"; fi
  done
  rm -f "$manifest"

  if [ $purge = 1 ]; then
    local s
    for s in "${states[@]+"${states[@]}"}"; do
      [ -d "$R$s" ] && find "$R$s" -mindepth 1 -delete
    done
  fi
  # Deepest first; a directory that still holds something stays.
  local d
  printf '%s\n' "${dirs[@]+"${dirs[@]}"}" | awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2- | while read -r d; do
    [ -n "$d" ] && [ -d "$R$d" ] && rmdir "$R$d" 2>/dev/null || true
  done
  say "removed heartbeat-ts from $root"
}

# Read whole before running: the installed copy of this script removes itself.
main "$@"
exit
