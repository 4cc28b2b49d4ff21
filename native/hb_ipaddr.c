/*
 * hb_ipaddr: moving a floating IPv4 address without forking ip(8) and
 * arping(8) — what resource.d/IPaddr and IPaddr2 do, as system calls
 * (rtnetlink and a packet socket). The rules (which interface, which label,
 * when it counts as running) stay in TypeScript (lib/resources/inprocess-ip*.ts),
 * where they are unit-tested against the scripts; this file only talks to
 * the kernel.
 *
 * Every call is synchronous: a netlink request to the local kernel is
 * answered in microseconds, and the caller wants the address up before it
 * goes on. A receive timeout bounds the wait should the kernel not answer.
 *
 * JS API (arguments are checked; misuse throws TypeError). Failures are
 * errno values so the caller decides how to report them:
 *   addrList()   -> [[ifname, "a.b.c.d", prefix, label], ...] or -errno
 *   routeList()  -> [["a.b.c.d", prefix, ifname], ...] or -errno: table
 *                   main, unicast, no gateway, not the default route
 *   addrChange(add, ifname, "a.b.c.d", prefix, brd, label) -> 0 or errno
 *                   (brd/label "" = none; add fails with EEXIST if present)
 *   ifIndex(ifname) -> the interface's index, 0 when there is none
 *   linkUp(ifname)  -> 0 or errno (sets IFF_UP)
 *   garp(ifname, "a.b.c.d", reply) -> 0 or errno: one gratuitous ARP,
 *                   a request (target MAC broadcast) or a reply (target MAC
 *                   ours), sender = target = the address, as arping -U / -A
 */
#include <node_api.h>

#include "hb_addon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <net/if_arp.h>
#include <netpacket/packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define NL_BUF 32768

typedef struct {
  struct nlmsghdr h;
  union {
    struct ifaddrmsg ifa;
    struct rtmsg rt;
  } u;
  char attrs[256];
} nl_req;

/* A netlink socket that gives up after a second without an answer. */
static int nl_open(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -errno;
  struct timeval tv = { 1, 0 };
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  struct sockaddr_nl sa;
  memset(&sa, 0, sizeof(sa));
  sa.nl_family = AF_NETLINK;
  if (bind(fd, (struct sockaddr*)&sa, sizeof(sa)) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

static int nl_send(int fd, nl_req* req) {
  struct sockaddr_nl to;
  memset(&to, 0, sizeof(to));
  to.nl_family = AF_NETLINK;
  if (sendto(fd, req, req->h.nlmsg_len, 0, (struct sockaddr*)&to, sizeof(to)) < 0) return errno;
  return 0;
}

static void add_attr(nl_req* req, unsigned short type, const void* data, size_t len) {
  struct rtattr* rta = (struct rtattr*)((char*)req + NLMSG_ALIGN(req->h.nlmsg_len));
  rta->rta_type = type;
  rta->rta_len = (unsigned short)RTA_LENGTH(len);
  memcpy(RTA_DATA(rta), data, len);
  req->h.nlmsg_len = NLMSG_ALIGN(req->h.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* Called for each message of a dump; returns false to stop on a JS failure. */
typedef bool (*nl_each)(napi_env env, napi_value out, uint32_t* n, struct nlmsghdr* h);

/* Reads answers to request `seq` until DONE (dump) or the ACK/error; 0 or errno. */
static int nl_read(int fd, uint32_t seq, napi_env env, napi_value out, nl_each each) {
  char buf[NL_BUF];
  uint32_t n = 0;
  for (;;) {
    ssize_t len = recv(fd, buf, sizeof(buf), 0);
    if (len < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    for (struct nlmsghdr* h = (struct nlmsghdr*)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != seq) continue;
      if (h->nlmsg_type == NLMSG_DONE) return 0;
      if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr* e = (struct nlmsgerr*)NLMSG_DATA(h);
        return e->error < 0 ? -e->error : 0;
      }
      if (each != NULL && !each(env, out, &n, h)) return EIO;
    }
  }
}

static bool set_str(napi_env env, napi_value arr, uint32_t i, const char* s) {
  napi_value v;
  return napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v) == napi_ok && napi_set_element(env, arr, i, v) == napi_ok;
}

static bool set_num(napi_env env, napi_value arr, uint32_t i, int32_t x) {
  napi_value v;
  return napi_create_int32(env, x, &v) == napi_ok && napi_set_element(env, arr, i, v) == napi_ok;
}

static bool push_row(napi_env env, napi_value out, uint32_t* n, napi_value row) {
  return napi_set_element(env, out, (*n)++, row) == napi_ok;
}

static bool each_addr(napi_env env, napi_value out, uint32_t* n, struct nlmsghdr* h) {
  if (h->nlmsg_type != RTM_NEWADDR) return true;
  struct ifaddrmsg* ifa = (struct ifaddrmsg*)NLMSG_DATA(h);
  if (ifa->ifa_family != AF_INET) return true;
  char ifname[IF_NAMESIZE] = "";
  char label[IF_NAMESIZE + 1] = "";
  char addr[INET_ADDRSTRLEN] = "";
  int alen = (int)IFA_PAYLOAD(h);
  for (struct rtattr* a = IFA_RTA(ifa); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
    /* ip(8) shows IFA_LOCAL as the address (IFA_ADDRESS is the peer on point-to-point links). */
    if (a->rta_type == IFA_LOCAL && RTA_PAYLOAD(a) == 4) inet_ntop(AF_INET, RTA_DATA(a), addr, sizeof(addr));
    if (a->rta_type == IFA_ADDRESS && RTA_PAYLOAD(a) == 4 && addr[0] == 0) inet_ntop(AF_INET, RTA_DATA(a), addr, sizeof(addr));
    if (a->rta_type == IFA_LABEL && RTA_PAYLOAD(a) > 0) {
      size_t l = RTA_PAYLOAD(a) < sizeof(label) ? RTA_PAYLOAD(a) : sizeof(label) - 1;
      memcpy(label, RTA_DATA(a), l);
      label[l] = 0;
    }
  }
  if (if_indextoname(ifa->ifa_index, ifname) == NULL || addr[0] == 0) return true;
  napi_value row;
  if (napi_create_array_with_length(env, 4, &row) != napi_ok) return false;
  return set_str(env, row, 0, ifname) && set_str(env, row, 1, addr) && set_num(env, row, 2, ifa->ifa_prefixlen)
      && set_str(env, row, 3, label[0] ? label : ifname) && push_row(env, out, n, row);
}

static bool each_route(napi_env env, napi_value out, uint32_t* n, struct nlmsghdr* h) {
  if (h->nlmsg_type != RTM_NEWROUTE) return true;
  struct rtmsg* rt = (struct rtmsg*)NLMSG_DATA(h);
  if (rt->rtm_family != AF_INET || rt->rtm_type != RTN_UNICAST || rt->rtm_dst_len == 0 || (rt->rtm_flags & RTM_F_CLONED)) return true;
  uint32_t table = rt->rtm_table;
  char dst[INET_ADDRSTRLEN] = "";
  char ifname[IF_NAMESIZE] = "";
  bool via = false;
  int alen = (int)RTM_PAYLOAD(h);
  for (struct rtattr* a = RTM_RTA(rt); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
    if (a->rta_type == RTA_TABLE && RTA_PAYLOAD(a) == 4) memcpy(&table, RTA_DATA(a), 4);
    if (a->rta_type == RTA_DST && RTA_PAYLOAD(a) == 4) inet_ntop(AF_INET, RTA_DATA(a), dst, sizeof(dst));
    if (a->rta_type == RTA_GATEWAY || a->rta_type == RTA_MULTIPATH || a->rta_type == RTA_VIA) via = true;
    if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) == 4) {
      uint32_t oif;
      memcpy(&oif, RTA_DATA(a), 4);
      if (if_indextoname(oif, ifname) == NULL) ifname[0] = 0;
    }
  }
  if (table != RT_TABLE_MAIN || via || dst[0] == 0 || ifname[0] == 0) return true;
  napi_value row;
  if (napi_create_array_with_length(env, 3, &row) != napi_ok) return false;
  return set_str(env, row, 0, dst) && set_num(env, row, 1, rt->rtm_dst_len) && set_str(env, row, 2, ifname) && push_row(env, out, n, row);
}

/* A dump request (RTM_GETADDR or RTM_GETROUTE, IPv4) into a JS array, or -errno. */
static napi_value dump(napi_env env, uint16_t type, nl_each each) {
  nl_req req;
  memset(&req, 0, sizeof(req));
  req.h.nlmsg_type = type;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.h.nlmsg_seq = 1;
  if (type == RTM_GETADDR) {
    req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
    req.u.ifa.ifa_family = AF_INET;
  } else {
    req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
    req.u.rt.rtm_family = AF_INET;
  }
  int fd = nl_open();
  if (fd < 0) return hb_int(env, fd);
  napi_value out;
  if (napi_create_array(env, &out) != napi_ok) {
    close(fd);
    return NULL;
  }
  int rc = nl_send(fd, &req);
  if (rc == 0) rc = nl_read(fd, 1, env, out, each);
  close(fd);
  return rc == 0 ? out : hb_int(env, -rc);
}

static napi_value AddrList(napi_env env, napi_callback_info info) {
  (void)info;
  return dump(env, RTM_GETADDR, each_addr);
}

static napi_value RouteList(napi_env env, napi_callback_info info) {
  (void)info;
  return dump(env, RTM_GETROUTE, each_route);
}

/* A string argument that must fit `size` bytes (with its NUL); false when it does not. */
static bool get_str(napi_env env, napi_value v, char* out, size_t size) {
  size_t len = 0;
  return napi_get_value_string_utf8(env, v, out, size, &len) == napi_ok && len < size - 1;
}

static bool get_ip(napi_env env, napi_value v, struct in_addr* ip) {
  char s[INET_ADDRSTRLEN + 1];
  return get_str(env, v, s, sizeof(s)) && inet_pton(AF_INET, s, ip) == 1;
}

static napi_value AddrChange(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  bool add = false;
  char ifname[IF_NAMESIZE + 1], brd_s[INET_ADDRSTRLEN + 1], label[IF_NAMESIZE + 1];
  struct in_addr ip, brd;
  int32_t prefix = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6 || napi_get_value_bool(env, argv[0], &add) != napi_ok
      || !get_str(env, argv[1], ifname, sizeof(ifname)) || !get_ip(env, argv[2], &ip)
      || napi_get_value_int32(env, argv[3], &prefix) != napi_ok || prefix < 0 || prefix > 32
      || !get_str(env, argv[4], brd_s, sizeof(brd_s)) || (brd_s[0] && inet_pton(AF_INET, brd_s, &brd) != 1)
      || !get_str(env, argv[5], label, sizeof(label))) {
    napi_throw_type_error(env, "HB_IPADDR_ARGS", "addrChange(add, ifname, ip, prefix 0-32, brd|'', label|'')");
    return NULL;
  }
  unsigned idx = if_nametoindex(ifname);
  if (idx == 0) return hb_int(env, ENODEV);
  nl_req req;
  memset(&req, 0, sizeof(req));
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
  req.h.nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
  req.h.nlmsg_seq = 2;
  req.u.ifa.ifa_family = AF_INET;
  req.u.ifa.ifa_prefixlen = (unsigned char)prefix;
  /* ip(8)'s default scope: host for 127.0.0.0/8, global otherwise. */
  req.u.ifa.ifa_scope = (ntohl(ip.s_addr) >> 24) == 127 ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE;
  req.u.ifa.ifa_index = idx;
  add_attr(&req, IFA_LOCAL, &ip, 4);
  add_attr(&req, IFA_ADDRESS, &ip, 4);
  if (add && brd_s[0]) add_attr(&req, IFA_BROADCAST, &brd, 4);
  if (add && label[0]) add_attr(&req, IFA_LABEL, label, strlen(label) + 1);
  int fd = nl_open();
  if (fd < 0) return hb_int(env, -fd);
  int rc = nl_send(fd, &req);
  if (rc == 0) rc = nl_read(fd, 2, env, NULL, NULL);
  close(fd);
  return hb_int(env, rc);
}

/* The interface name argument of linkUp/garp, in an ifreq. */
static bool get_ifreq(napi_env env, napi_value v, struct ifreq* ifr) {
  memset(ifr, 0, sizeof(*ifr));
  return get_str(env, v, ifr->ifr_name, sizeof(ifr->ifr_name));
}

/* The one argument of ifIndex/linkUp; false with a TypeError pending when it is not an interface name. */
static bool only_ifname(napi_env env, napi_callback_info info, struct ifreq* ifr, const char* usage) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc >= 1 && get_ifreq(env, argv[0], ifr)) return true;
  napi_throw_type_error(env, "HB_IPADDR_ARGS", usage);
  return false;
}

static napi_value IfIndex(napi_env env, napi_callback_info info) {
  struct ifreq ifr;
  if (!only_ifname(env, info, &ifr, "ifIndex(ifname)")) return NULL;
  return hb_int(env, (int32_t)if_nametoindex(ifr.ifr_name));
}

static napi_value LinkUp(napi_env env, napi_callback_info info) {
  struct ifreq ifr;
  if (!only_ifname(env, info, &ifr, "linkUp(ifname)")) return NULL;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return hb_int(env, errno);
  int rc = 0;
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) rc = errno;
  else if (!(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) rc = errno;
  }
  close(fd);
  return hb_int(env, rc);
}

/* The ARP body arping sends for an Ethernet-like link: 28 bytes with a 6-byte hardware address. */
typedef struct __attribute__((packed)) {
  struct arphdr h;
  unsigned char sha[6];
  unsigned char spa[4];
  unsigned char tha[6];
  unsigned char tpa[4];
} arp_body;

/* Sends one gratuitous ARP on `fd` (a packet socket) from the link's MAC; 0 or errno. */
static int garp_send(int fd, const struct ifreq* hw, unsigned idx, struct in_addr ip, bool reply) {
  arp_body p;
  memset(&p, 0, sizeof(p));
  p.h.ar_hrd = htons(hw->ifr_hwaddr.sa_family);
  p.h.ar_pro = htons(ETH_P_IP);
  p.h.ar_hln = 6;
  p.h.ar_pln = 4;
  p.h.ar_op = htons(reply ? ARPOP_REPLY : ARPOP_REQUEST);
  memcpy(p.sha, hw->ifr_hwaddr.sa_data, 6);
  memcpy(p.spa, &ip, 4);
  if (reply) memcpy(p.tha, hw->ifr_hwaddr.sa_data, 6);
  else memset(p.tha, 0xff, 6);
  memcpy(p.tpa, &ip, 4);
  struct sockaddr_ll to;
  memset(&to, 0, sizeof(to));
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_ARP);
  to.sll_ifindex = (int)idx;
  to.sll_halen = 6;
  memset(to.sll_addr, 0xff, 6);
  if (sendto(fd, &p, sizeof(p), MSG_DONTWAIT, (struct sockaddr*)&to, sizeof(to)) < 0) return errno;
  return 0;
}

static napi_value Garp(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  struct ifreq ifr;
  struct in_addr ip;
  bool reply = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 || !get_ifreq(env, argv[0], &ifr)
      || !get_ip(env, argv[1], &ip) || napi_get_value_bool(env, argv[2], &reply) != napi_ok) {
    napi_throw_type_error(env, "HB_IPADDR_ARGS", "garp(ifname, ip, reply)");
    return NULL;
  }
  unsigned idx = if_nametoindex(ifr.ifr_name);
  if (idx == 0) return hb_int(env, ENODEV);
  int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));
  if (fd < 0) return hb_int(env, errno);
  int rc = 0;
  struct ifreq flags = ifr;
  if (ioctl(fd, SIOCGIFFLAGS, &flags) < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) rc = errno;
  /* arping refuses links without ARP; so do we (Ethernet-like links only). */
  else if ((flags.ifr_flags & (IFF_NOARP | IFF_LOOPBACK)) || ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) rc = EOPNOTSUPP;
  else rc = garp_send(fd, &ifr, idx, ip, reply);
  close(fd);
  return hb_int(env, rc);
}

HB_ADDON(
  HB_METHOD("addrList", AddrList),
  HB_METHOD("routeList", RouteList),
  HB_METHOD("addrChange", AddrChange),
  HB_METHOD("ifIndex", IfIndex),
  HB_METHOD("linkUp", LinkUp),
  HB_METHOD("garp", Garp));
