# hb-functions.sh - helpers shared by the heartbeat-ts resource scripts.
#
# Sourced, never run: `. "${0%/*}/hb-functions.sh"` (the scripts find it
# next to themselves, so the directory can live anywhere).  Not executable,
# so ResourceManager can never mistake it for a resource.
#
# What it gives a script:
#   HB_SCRIPT          basename of the script (first part of the log tag)
#   HB_INSTANCE        set it to name the instance in the log tag, e.g.
#                      IPaddr_10.0.0.100 ("default" when unset)
#   HB_OK .. HB_NOT_RUNNING   exit codes (OCF numbering, see README.md)
#   hb_log LEVEL MSG…  LEVEL = debug|info|warn|err|crit; ha_log layout
#   hb_info/hb_warn/hb_err/hb_debug MSG…
#   hb_finish OP RC    print the v1 result line on stdout, log it, exit RC
#   hb_usage TEXT      print TEXT as usage on stdout, exit HB_ERR_ARGS
#   hb_state OP NAME   pseudo-resource state files (start|stop|status)
#   hb_rsctmp          directory for state and pid files (created)
#   hb_have CMD        is CMD runnable?
#   hb_is_number X     digits with at most one dot (sleep(1) durations)
#   hb_pidfile_alive F / hb_kill_pidfile F   background helpers we started
#   hb_new_file F [TEXT] / hb_own_file F     create anew (no symlink followed) / ours?
#
# Only POSIX sh plus `local` (dash, bash and busybox ash all have it).

# shellcheck disable=SC2034 # the codes are for the scripts that source this
HB_OK=0
HB_ERR_GENERIC=1
HB_ERR_ARGS=2
HB_ERR_UNIMPLEMENTED=3
HB_ERR_PERM=4
HB_ERR_INSTALLED=5
HB_ERR_CONFIGURED=6
HB_NOT_RUNNING=7

HB_SCRIPT=${0##*/}
: "${HB_INSTANCE:=default}"

# Scripts are run by the daemon with a minimal environment; make sure the
# usual admin binaries (ip, mount, losetup, blkid, fsck) are found.
PATH=$PATH:/usr/sbin:/sbin:/usr/bin:/bin
export PATH

# The date as the log layouts want it: HA_DATEFMT ends in a TAB (or, in
# resource-agents' own default, a space) that word splitting used to eat.
hb_date() {
	local d
	d=$(date "+${HA_DATEFMT:-%Y/%m/%d_%T}")
	while :; do
		case $d in
		*[[:space:]]) d=${d%?} ;;
		*) break ;;
		esac
	done
	printf '%s' "$d"
}

# hb_log LEVEL MESSAGE...
# Layouts (spec 11.6):
#   HA_LOGFILE:  <date>␠␠<tag>:␠␠␠␠<LEVEL>: <message>
#   HA_DEBUGLOG: <tag>:<TAB><date> <LEVEL>: <message>
#   syslog:      logger -t <tag> -p <HA_LOGFACILITY>.<level>
# With neither HA_LOGFILE nor a facility the line goes to stderr (which
# ResourceManager collects into the debug log).  debug lines are kept only
# when HA_debug is non-zero.
hb_log() {
	local level word prio tag date text facility
	level=$1
	shift
	case $level in
	debug) word=DEBUG prio=debug ;;
	info) word=INFO prio=info ;;
	warn) word=WARNING prio=warning ;;
	err) word=ERROR prio=err ;;
	crit) word=CRIT prio=crit ;;
	*) word=$level prio=notice ;;
	esac
	if [ "$level" = debug ]; then
		case ${HA_debug:-0} in 0 | "") return 0 ;; esac
	fi
	tag="$HB_SCRIPT($HB_INSTANCE)[$$]"
	text="$word: $*"
	date=$(hb_date)
	facility=${HA_LOGFACILITY:-}
	[ "$facility" = none ] && facility=
	if [ -n "$facility" ] && hb_have logger; then
		logger -t "$tag" -p "$facility.$prio" -- "$text" 2>/dev/null
	fi
	if [ "$level" != debug ] && [ -n "${HA_LOGFILE:-}" ]; then
		printf '%s  %s:    %s\n' "$date" "$tag" "$text" >>"$HA_LOGFILE" 2>/dev/null
	fi
	# The debug file receives everything, unless it is the log file itself.
	if [ -n "${HA_DEBUGLOG:-}" ] && [ "$HA_DEBUGLOG" != "${HA_LOGFILE:-}" ]; then
		printf '%s:\t%s %s\n' "$tag" "$date" "$text" >>"$HA_DEBUGLOG" 2>/dev/null
	fi
	if [ -z "$facility" ]; then
		if [ "$level" = debug ]; then
			[ -z "${HA_DEBUGLOG:-}" ] && printf '%s  %s:    %s\n' "$date" "$tag" "$text" >&2
		elif [ -z "${HA_LOGFILE:-}" ]; then
			printf '%s  %s:    %s\n' "$date" "$tag" "$text" >&2
		fi
	fi
	return 0
}

hb_debug() { hb_log debug "$@"; }
hb_info() { hb_log info "$@"; }
hb_warn() { hb_log warn "$@"; }
hb_err() { hb_log err "$@"; }

# hb_finish OP RC: the one line v1 wrappers print on stdout, then exit RC.
# ResourceManager decides "running" from the status line alone (README.md):
# only RC 0 after status may print a line containing "Running"/"OK".
hb_finish() {
	local op rc line
	op=$1
	rc=$2
	case $rc in
	0) case $op in
		status | monitor) line="INFO:  Running OK" ;;
		*) line="INFO:  Success" ;;
		esac ;;
	1) line="ERROR:  Generic error" ;;
	2) line="ERROR:  Illegal argument" ;;
	3) line="ERROR:  Function unimplemented" ;;
	4) line="ERROR:  User had insufficient privilege" ;;
	5) line="ERROR:  Program is not installed" ;;
	6) line="ERROR:  Program is not configured" ;;
	7) line="INFO:  Resource is stopped" ;;
	*) line="ERROR:  Unknown error: $rc" ;;
	esac
	case $line in
	ERROR*) hb_log err "${line#ERROR:  }" ;;
	*) hb_log info "${line#INFO:  }" ;;
	esac
	echo "$line"
	exit "$rc"
}

# hb_usage TEXT: wrong argument count or unknown operation.
hb_usage() {
	echo "usage: $HB_SCRIPT $*"
	hb_log err "bad arguments; usage: $HB_SCRIPT $*"
	exit "$HB_ERR_ARGS"
}

hb_have() {
	command -v "$1" >/dev/null 2>&1
}

hb_is_number() {
	case $1 in
	"" | *[!0-9.]* | *.*.* | .) return 1 ;;
	esac
	return 0
}

# State and pid files live in HA_RSCTMP, which heartbeat empties when it
# starts: a pseudo resource must not look "running" after a reboot. The
# directory is 1755 root (as Heartbeat 3.0.6 makes it), so nobody else can
# put a file there; still, every file is created anew (never through a
# symlink or a file someone else made) and only a file of our own is
# believed, in case HA_RSCTMP points somewhere others can write.
hb_rsctmp() {
	local dir
	dir=${HA_RSCTMP:-/var/run/heartbeat/rsctmp}
	[ -d "$dir" ] || (umask 022 && mkdir -p "$dir" && chmod 1755 "$dir") 2>/dev/null
	printf '%s' "$dir"
}

# hb_own_file F: F is a regular file (not a symlink) owned by us.
hb_own_file() {
	[ -f "$1" ] && [ ! -L "$1" ] && [ -O "$1" ]
}

# hb_new_file F [TEXT]: replaces F by a new file holding TEXT; noclobber
# makes the shell refuse (instead of follow) anything created meanwhile.
hb_new_file() {
	rm -f "$1" && (set -C && printf '%s' "${2:-}" >"$1") 2>/dev/null
}

# hb_state start|stop|status NAME: for resources with nothing to look at
# (Delay, MailTo, SendArp).  status returns 0 or HB_NOT_RUNNING.
hb_state() {
	local file
	file="$(hb_rsctmp)/$2"
	case $1 in
	start) hb_new_file "$file" ;;
	stop) rm -f "$file" ;;
	status) hb_own_file "$file" || return "$HB_NOT_RUNNING" ;;
	esac
}

# A pid file written by one of our scripts (ours, not a forged one) names
# a live process (pids get reused after a reboot).
hb_pidfile_alive() {
	local pid
	hb_own_file "$1" || return 1
	read -r pid <"$1" 2>/dev/null || return 1
	case $pid in "" | *[!0-9]*) return 1 ;; esac
	kill -0 "$pid" 2>/dev/null
}

# Stop a background job recorded in a pid file, and its children (the
# job is a subshell running arping), then remove the file.
hb_kill_pidfile() {
	local pid kids
	if hb_pidfile_alive "$1"; then
		read -r pid <"$1"
		kids=$(ps -o pid= --ppid "$pid" 2>/dev/null)
		# shellcheck disable=SC2086 # one argument per child pid
		kill "$pid" $kids 2>/dev/null
	fi
	rm -f "$1"
}
