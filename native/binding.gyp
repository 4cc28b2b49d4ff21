{
  # Raw ICMP sockets for the ping media (see hb_icmp.c). Plain C against
  # Node-API: no V8 ABI, so one build works on every later Node version and
  # nothing beyond Node's own headers is needed to compile it.
  "targets": [
    {
      "target_name": "hb_icmp",
      "sources": ["hb_icmp.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-Werror=implicit-function-declaration"]
    },
    {
      # SO_BINDTODEVICE for the UDP media and AF_UNIX datagrams for syslog (see hb_net.c).
      "target_name": "hb_net",
      "sources": ["hb_net.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-Werror=implicit-function-declaration"]
    },
    # systemd's notify socket (NOTIFY_SOCKET, abstract or path) for Type=notify (see hb_notify.c).
    {
      "target_name": "hb_notify",
      "sources": ["hb_notify.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-Werror=implicit-function-declaration"]
    },
    # Realtime scheduling, locked memory and the realtime run bound (see hb_sched.c).
    {
      "target_name": "hb_sched",
      "sources": ["hb_sched.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-Werror=implicit-function-declaration"]
    },
    # Peer credentials of the daemon's unix sockets at connect time (see hb_peercred.c).
    {
      "target_name": "hb_peercred",
      "sources": ["hb_peercred.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-Werror=implicit-function-declaration"]
    },
    # Moving a floating IPv4 address in-process: rtnetlink and gratuitous ARP (see hb_ipaddr.c).
    {
      "target_name": "hb_ipaddr",
      "sources": ["hb_ipaddr.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-Werror=implicit-function-declaration"]
    }
  ]
}
