# hb-ipaddr.sh - IPv4 address handling shared by IPaddr, IPaddr2 and SendArp.
#
# Sourced after hb-functions.sh.  Everything goes through iproute2 (`ip`);
# gratuitous ARP through iputils `arping`.
#
# hb_ipaddr_main MODE OP SPEC   MODE = IPaddr | IPaddr2, OP = start|stop|status
#   SPEC = ip[/cidr[/dev[:label]][/broadcast]]   (cidr: bits or dotted mask;
#   a field after cidr that starts with a digit is the broadcast address)
#
# Tunables (environment):
#   HB_ARP_COUNT       gratuitous ARPs of each kind to send (default 5)
#   HB_ARP_INTERVAL    whole seconds between them (default 1; arping's unit)
#   HB_ARP_BACKGROUND  yes (default): start returns without waiting for them

# hb_ip_valid ADDR: dotted quad, each part 0..255 without leading zeros
# (a leading zero means octal to some tools, so we refuse the ambiguity).
hb_ip_valid() {
	local rest part n
	case $1 in *[!0-9.]* | .* | *. | *..*) return 1 ;; esac
	rest=$1.
	n=0
	while [ -n "$rest" ]; do
		part=${rest%%.*}
		rest=${rest#*.}
		case $part in "" | 0?* | ????*) return 1 ;; esac
		[ "$part" -le 255 ] || return 1
		n=$((n + 1))
	done
	[ "$n" -eq 4 ]
}

hb_ip_to_int() {
	local a b c d
	IFS=. read -r a b c d <<EOF
$1
EOF
	echo $(((a << 24) | (b << 16) | (c << 8) | d))
}

hb_int_to_ip() {
	echo "$((($1 >> 24) & 255)).$((($1 >> 16) & 255)).$((($1 >> 8) & 255)).$(($1 & 255))"
}

hb_prefix_mask() {
	[ "$1" -eq 0 ] && { echo 0; return; }
	echo $(((0xffffffff << (32 - $1)) & 0xffffffff))
}

# hb_cidr_bits X: prefix length from "24" or "255.255.255.0"; fails on junk
# and on non-contiguous masks.
hb_cidr_bits() {
	local m bits
	case $1 in
	*.*)
		hb_ip_valid "$1" || return 1
		m=$(hb_ip_to_int "$1")
		bits=0
		while [ $((m & 0x80000000)) -ne 0 ]; do
			bits=$((bits + 1))
			m=$(((m << 1) & 0xffffffff))
		done
		[ "$m" -eq 0 ] || return 1
		echo "$bits" ;;
	"" | *[!0-9]* | 0?*) return 1 ;;
	*)
		[ "$1" -ge 1 ] && [ "$1" -le 32 ] || return 1
		echo "$1" ;;
	esac
}

# hb_ip_in_net IP NET/BITS
hb_ip_in_net() {
	local mask
	mask=$(hb_prefix_mask "${2#*/}")
	[ $(($(hb_ip_to_int "$1") & mask)) -eq $(($(hb_ip_to_int "${2%/*}") & mask)) ]
}

# hb_ip_route_for IP: "dev bits" of the most specific connected route (no
# gateway, not the default route) whose network contains IP.
hb_ip_route_for() {
	local best_dev best_bits net dev bits
	best_bits=-1
	best_dev=
	while read -r net dev; do
		case $net in */*) bits=${net#*/} ;; *) bits=32 net=$net/32 ;; esac
		hb_ip_valid "${net%/*}" || continue
		if [ "$bits" -gt "$best_bits" ] && hb_ip_in_net "$1" "$net"; then
			best_bits=$bits
			best_dev=$dev
		fi
	done <<EOF
$(ip -4 -o route show table main 2>/dev/null |
	awk '$1 != "default" && !/ via / { for (i = 2; i < NF; i++) if ($i == "dev") { print $1, $(i + 1); break } }')
EOF
	[ -n "$best_dev" ] || return 1
	echo "$best_dev $best_bits"
}

# hb_ip_where IP: one "dev bits label" line per place the address is
# configured (the label is the dev name when there is none).
hb_ip_where() {
	ip -4 -o addr show 2>/dev/null | awk -v want="$1" '{
		addr = ""; label = $2
		for (i = 3; i <= NF; i++) {
			if ($i == "inet") addr = $(i + 1)
			if ($i ~ /\\$/) { label = $i; sub(/\\$/, "", label); break }
		}
		split(addr, p, "/")
		if (p[1] == want) print $2, p[2], label
	}'
}

# hb_ip_free_label DEV: first DEV:N not used by an address on DEV, the
# alias numbering ifconfig-era tools expect.
hb_ip_free_label() {
	local used n
	used=" $(ip -4 -o addr show dev "$1" 2>/dev/null | awk '{ for (i = 3; i <= NF; i++) if ($i ~ /\\$/) { l = $i; sub(/\\$/, "", l); printf "%s ", l } }')"
	n=0
	while [ "$n" -lt 1024 ]; do
		case $used in *" $1:$n "*) ;; *) echo "$1:$n"; return 0 ;; esac
		n=$((n + 1))
	done
	return 1
}

# hb_send_arp DEV IP: gratuitous ARP request (-U) then reply (-A) bursts so
# both kinds of neighbour caches update; pid kept in send_arp-IP so a
# stop can cut a long burst short.
hb_send_arp() {
	local dev ip count interval pidfile
	dev=$1
	ip=$2
	count=${HB_ARP_COUNT:-5}
	interval=${HB_ARP_INTERVAL:-1}
	case $count in "" | *[!0-9]*) hb_warn "HB_ARP_COUNT=$count is not a number; using 5"; count=5 ;; esac
	case $interval in "" | *[!0-9]* | 0*)
		hb_warn "HB_ARP_INTERVAL=$interval is not a whole number of seconds >= 1; using 1"
		interval=1 ;;
	esac
	[ "$count" -eq 0 ] && return 0
	if ! hb_have arping; then
		hb_warn "arping (iputils) not installed: no gratuitous ARP for $ip on $dev; peers learn the new MAC only when their cache expires"
		return 0
	fi
	pidfile="$(hb_rsctmp)/send_arp-$ip"
	hb_kill_pidfile "$pidfile"
	hb_info "Sending $count gratuitous ARPs (request and reply) for $ip on $dev"
	if [ "${HB_ARP_BACKGROUND:-yes}" = yes ]; then
		# Detached from our stdout/stderr: whoever runs us waits for EOF.
		(
			arping -q -U -c "$count" -i "$interval" -I "$dev" "$ip"
			arping -q -A -c "$count" -i "$interval" -I "$dev" "$ip"
			rm -f "$pidfile"
		) </dev/null >/dev/null 2>&1 &
		hb_new_file "$pidfile" "$!
"
	else
		arping -q -U -c "$count" -i "$interval" -I "$dev" "$ip" >/dev/null 2>&1
		arping -q -A -c "$count" -i "$interval" -I "$dev" "$ip" >/dev/null 2>&1
	fi
	return 0
}

# Parses SPEC into IP, BITS, DEV, LABEL, BRD (empty when not given).
# Exits HB_ERR_ARGS with a message naming the bad part.
hb_ipaddr_parse() {
	local spec rest field
	spec=$1
	IP=${spec%%/*}
	rest=${spec#"$IP"}
	rest=${rest#/}
	BITS='' DEV='' LABEL='' BRD=''
	if ! hb_ip_valid "$IP"; then
		hb_err "'$IP' is not an IPv4 address (expected ip[/cidr[/dev[/broadcast]]], e.g. 10.0.0.100/24/eth0)"
		hb_finish "$OP" "$HB_ERR_ARGS"
	fi
	case $IP in
	0.* | 22[4-9].* | 23[0-9].* | 2[4-5][0-9].*)
		hb_err "$IP is not a unicast host address"
		hb_finish "$OP" "$HB_ERR_ARGS" ;;
	esac
	if [ -n "$rest" ]; then
		field=${rest%%/*}
		rest=${rest#"$field"}
		rest=${rest#/}
		if [ -n "$field" ] && ! BITS=$(hb_cidr_bits "$field"); then
			hb_err "'$field' in $spec is not a netmask (give prefix bits 1-32 or a dotted mask)"
			hb_finish "$OP" "$HB_ERR_ARGS"
		fi
	fi
	if [ -n "$rest" ]; then
		field=${rest%%/*}
		rest=${rest#"$field"}
		rest=${rest#/}
		case $field in
		[0-9]*) BRD=$field ;;
		*:*) DEV=${field%%:*} LABEL=${field#*:} ;;
		*) DEV=$field ;;
		esac
	fi
	if [ -n "$rest" ] && [ -z "$BRD" ]; then
		BRD=${rest%%/*}
		rest=${rest#"$BRD"}
		rest=${rest#/}
	fi
	if [ -n "$rest" ]; then
		hb_err "too many fields in $spec (expected ip[/cidr[/dev[/broadcast]]])"
		hb_finish "$OP" "$HB_ERR_ARGS"
	fi
	if [ -n "$BRD" ] && ! hb_ip_valid "$BRD"; then
		hb_err "broadcast '$BRD' in $spec is not an IPv4 address"
		hb_finish "$OP" "$HB_ERR_ARGS"
	fi
	case $DEV in *[!A-Za-z0-9_.@-]*)
		hb_err "'$DEV' in $spec is not an interface name"
		hb_finish "$OP" "$HB_ERR_ARGS" ;;
	esac
	return 0
}

# Fill in DEV and BITS from the connected route when not given; fails when
# nothing on this host is connected to the address's network.
hb_ipaddr_resolve() {
	local found
	if [ -n "$DEV" ] && [ -n "$BITS" ]; then
		return 0
	fi
	if [ -n "$DEV" ]; then
		found=$(ip -4 -o route show table main dev "$DEV" 2>/dev/null | awk '$1 != "default" && !/ via / { print $1 }' |
			while read -r net; do case $net in */*) ;; *) net=$net/32 ;; esac
				hb_ip_in_net "$IP" "$net" && { echo "$DEV ${net#*/}"; break; }; done)
	else
		found=$(hb_ip_route_for "$IP")
	fi
	if [ -z "$found" ]; then
		return 1
	fi
	[ -n "$DEV" ] || DEV=${found% *}
	[ -n "$BITS" ] || BITS=${found#* }
	return 0
}

hb_ipaddr_status() {
	local where dev bits label
	where=$(hb_ip_where "$IP")
	[ -n "$where" ] || return "$HB_NOT_RUNNING"
	if [ "$MODE" = IPaddr ]; then
		# IPaddr: anywhere counts, unless the resource names an interface.
		[ -z "$DEV" ] && return "$HB_OK"
	else
		# IPaddr2 wants the configured interface and prefix, as the OCF
		# agent does; without a route to derive them it is not ours.
		hb_ipaddr_resolve || return "$HB_NOT_RUNNING"
	fi
	while read -r dev bits label; do
		[ "$dev" = "$DEV" ] || continue
		[ "$MODE" = IPaddr2 ] && [ "$bits" != "$BITS" ] && continue
		return "$HB_OK"
	done <<EOF
$where
EOF
	hb_err "$IP is configured as $(echo "$where" | awk '{ printf "%s%s/%s on %s", sep, $3, $2, $1; sep = ", " }'), not ${BITS:+/$BITS }on $DEV"
	return "$HB_ERR_GENERIC"
}

hb_ipaddr_start() {
	local brd_args label_args rc msg
	hb_ipaddr_status
	rc=$?
	[ "$rc" -eq 0 ] && { hb_info "$IP is already configured (nothing to do)"; return "$HB_OK"; }
	[ "$rc" -eq "$HB_ERR_GENERIC" ] && return "$HB_ERR_GENERIC"
	if ! hb_ipaddr_resolve; then
		hb_err "No interface found for $IP: no connected route contains it; give one explicitly, e.g. $IP/24/eth0"
		return "$HB_ERR_GENERIC"
	fi
	if ! ip link show dev "$DEV" >/dev/null 2>&1; then
		hb_err "Interface $DEV does not exist (resource $IP)"
		return "$HB_ERR_CONFIGURED"
	fi
	if [ "$MODE" = IPaddr ]; then
		[ -n "$LABEL" ] && hb_info "IPaddr picks its own alias label; ignoring ':$LABEL' (use IPaddr2 for a fixed label)"
		LABEL=$(hb_ip_free_label "$DEV") || { hb_err "No free alias label on $DEV"; return "$HB_ERR_GENERIC"; }
		# ifconfig always set a broadcast address on an alias.
		if [ -z "$BRD" ] && [ "$BITS" -le 30 ]; then
			BRD=$(hb_int_to_ip $(($(hb_ip_to_int "$IP") | (~$(hb_prefix_mask "$BITS") & 0xffffffff))))
		fi
	elif [ -n "$LABEL" ]; then
		LABEL=$DEV:$LABEL
	fi
	if [ ${#LABEL} -gt 15 ]; then
		hb_err "Interface label $LABEL is longer than the kernel's 15 characters"
		return "$HB_ERR_CONFIGURED"
	fi
	brd_args=
	[ -n "$BRD" ] && brd_args="brd $BRD"
	label_args=
	[ -n "$LABEL" ] && label_args="label $LABEL"
	hb_info "ip -4 addr add $IP/$BITS $brd_args dev $DEV $label_args"
	# shellcheck disable=SC2086 # the *_args are word lists on purpose
	if ! msg=$(ip -4 addr add "$IP/$BITS" $brd_args dev "$DEV" $label_args 2>&1); then
		hb_err "Could not add $IP/$BITS to $DEV: $msg"
		return "$HB_ERR_GENERIC"
	fi
	ip link set dev "$DEV" up 2>/dev/null
	case $DEV in lo*) ;; *) hb_send_arp "$DEV" "$IP" ;; esac
	hb_ipaddr_status
}

hb_ipaddr_stop() {
	local dev bits label rc msg
	hb_kill_pidfile "$(hb_rsctmp)/send_arp-$IP"
	rc=$HB_OK
	while read -r dev bits label; do
		[ -n "$dev" ] || continue
		if [ -n "$DEV" ] && [ "$dev" != "$DEV" ]; then
			hb_warn "$IP is also on $dev; leaving it (this resource manages $DEV)"
			continue
		fi
		hb_info "ip -4 addr del $IP/$bits dev $dev ($label)"
		if ! msg=$(ip -4 addr del "$IP/$bits" dev "$dev" 2>&1); then
			hb_err "Could not remove $IP/$bits from $dev: $msg"
			rc=$HB_ERR_GENERIC
		fi
	done <<EOF
$(hb_ip_where "$IP")
EOF
	return "$rc"
}

hb_ipaddr_main() {
	MODE=$1
	OP=$2
	# shellcheck disable=SC2034 # read by hb_log
	HB_INSTANCE=${MODE}_${3%%/*}
	hb_ipaddr_parse "$3"
	case $OP in
	start) hb_ipaddr_start ;;
	stop) hb_ipaddr_stop ;;
	status | monitor) hb_ipaddr_status ;;
	*) hb_usage "ip[/cidr[/dev[/broadcast]]] {start|stop|status}" ;;
	esac
	hb_finish "$OP" $?
}
