/*
 * hb_icmp: raw IPv4 ICMP sockets for heartbeat-ts's ping media.
 *
 * Node has no raw sockets, and heartbeat's ping media need to send echo
 * requests whose payload we choose and to read every echo reply. This addon
 * does only the system calls; packet building and parsing stay in TypeScript
 * (lib/media/icmp.ts), where they are unit-tested.
 *
 * Receiving is integrated into Node's own event loop with a uv_poll watcher on
 * the non-blocking socket, so no thread is parked in recvfrom() and packets
 * arrive on the main thread like any other socket event.
 *
 * JS API (all arguments are checked; misuse throws TypeError):
 *   open(acceptMask, onPacket(buf, fromAddr), onError(errno, syscall)[, family]) -> handle
 *       family 4 (default): IPPROTO_ICMP; acceptMask bit N set = deliver ICMP
 *       type N (ICMP_FILTER drops the rest in the kernel); buf is the whole
 *       IPv4 datagram, header included.
 *       family 6 (ping6): IPPROTO_ICMPV6; bit N = ICMPv6 type 128+N (the
 *       informational types, echo included; ICMP6_FILTER); buf is the ICMPv6
 *       message alone, whose checksum the kernel fills in and verifies.
 *   send(handle, icmpBytes, address) -> 0 or an errno value
 *   close(handle)                       (idempotent)
 */
#include <node_api.h>

#include "hb_addon.h"
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

/* Large enough for any IPv4 datagram, so nothing is ever truncated. */
#define RECV_BUF_SIZE 65536
/* Bounds the work done per wake-up so a flood cannot starve the loop. */
#define MAX_READS_PER_WAKEUP 64

typedef struct {
  napi_env env;
  uv_poll_t poll;
  int fd;
  int family;        /* AF_INET or AF_INET6 */
  int open;          /* fd valid and being polled */
  int handle_closed; /* uv_close finished (or the poll was never started) */
  int finalized;     /* the JS handle was garbage-collected */
  napi_ref on_packet;
  napi_ref on_error;
  napi_async_context actx;
  unsigned char buf[RECV_BUF_SIZE];
} icmp_sock;

#define CHECK(env, call)                                             \
  do {                                                               \
    if ((call) != napi_ok) {                                         \
      napi_throw_error((env), "HB_ICMP_NAPI", "N-API call failed: " #call); \
      return NULL;                                                   \
    }                                                                \
  } while (0)

static void maybe_free(icmp_sock* s) {
  if (s->handle_closed && s->finalized) free(s);
}

static void on_handle_closed(uv_handle_t* h) {
  icmp_sock* s = (icmp_sock*)h->data;
  s->handle_closed = 1;
  maybe_free(s);
}

/* Runs at environment teardown (process exit, worker end) if still open. */
static void env_cleanup(void* arg) {
  icmp_sock* s = (icmp_sock*)arg;
  if (!s->open) return;
  s->open = 0;
  uv_poll_stop(&s->poll);
  close(s->fd);
  s->fd = -1;
}

/* Stops polling and releases everything but the struct itself. */
static void shutdown_sock(icmp_sock* s) {
  if (!s->open) return;
  s->open = 0;
  uv_poll_stop(&s->poll);
  close(s->fd);
  s->fd = -1;
  napi_remove_env_cleanup_hook(s->env, env_cleanup, s);
  if (s->on_packet) napi_delete_reference(s->env, s->on_packet);
  if (s->on_error) napi_delete_reference(s->env, s->on_error);
  s->on_packet = NULL;
  s->on_error = NULL;
  if (s->actx) napi_async_destroy(s->env, s->actx);
  s->actx = NULL;
  uv_close((uv_handle_t*)&s->poll, on_handle_closed);
}

static void finalize_handle(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  icmp_sock* s = (icmp_sock*)data;
  shutdown_sock(s);
  s->finalized = 1;
  maybe_free(s);
}

/* Calls a JS callback from a libuv callback; a throw becomes an uncaught exception. */
static void call_js(icmp_sock* s, napi_ref ref, size_t argc, napi_value* argv) {
  napi_env env = s->env;
  napi_value cb, recv, result;
  if (ref == NULL || napi_get_reference_value(env, ref, &cb) != napi_ok || cb == NULL) return;
  /* napi_make_callback wants an object as `this`. */
  if (napi_get_global(env, &recv) != napi_ok) return;
  if (napi_make_callback(env, s->actx, recv, cb, argc, argv, &result) == napi_pending_exception) {
    napi_value exc;
    if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
  }
}

static void report_error(icmp_sock* s, int err, const char* syscall) {
  napi_value argv[2];
  napi_create_int32(s->env, err, &argv[0]);
  napi_create_string_utf8(s->env, syscall, NAPI_AUTO_LENGTH, &argv[1]);
  call_js(s, s->on_error, 2, argv);
}

static void on_readable(uv_poll_t* h, int status, int events) {
  (void)events;
  icmp_sock* s = (icmp_sock*)h->data;
  if (!s->open) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(s->env, &scope) != napi_ok) return;
  if (status < 0) {
    report_error(s, -status, "poll");
  } else {
    for (int i = 0; i < MAX_READS_PER_WAKEUP && s->open; i++) {
      struct sockaddr_storage from;
      socklen_t fromlen = sizeof(from);
      memset(&from, 0, sizeof(from));
      ssize_t n = recvfrom(s->fd, s->buf, sizeof(s->buf), 0, (struct sockaddr*)&from, &fromlen);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) report_error(s, errno, "recvfrom");
        break;
      }
      char addr[INET6_ADDRSTRLEN] = "";
      if (from.ss_family == AF_INET6) inet_ntop(AF_INET6, &((struct sockaddr_in6*)&from)->sin6_addr, addr, sizeof(addr));
      else inet_ntop(AF_INET, &((struct sockaddr_in*)&from)->sin_addr, addr, sizeof(addr));
      napi_value argv[2];
      void* copy;
      if (napi_create_buffer_copy(s->env, (size_t)n, s->buf, &copy, &argv[0]) != napi_ok) break;
      napi_create_string_utf8(s->env, addr, NAPI_AUTO_LENGTH, &argv[1]);
      /* The callback may close the socket: the loop condition checks s->open. */
      call_js(s, s->on_packet, 2, argv);
    }
  }
  napi_close_handle_scope(s->env, scope);
}

static icmp_sock* get_sock(napi_env env, napi_value v) {
  napi_valuetype t;
  void* data = NULL;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external) return NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok) return NULL;
  return (icmp_sock*)data;
}

static int is_function(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && t == napi_function;
}

static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t accept_mask;
  uint32_t family_arg = 4;
  if (argc < 3 || napi_get_value_uint32(env, argv[0], &accept_mask) != napi_ok
      || !is_function(env, argv[1]) || !is_function(env, argv[2])
      || (argc >= 4 && (napi_get_value_uint32(env, argv[3], &family_arg) != napi_ok || (family_arg != 4 && family_arg != 6)))) {
    napi_throw_type_error(env, "HB_ICMP_ARGS", "open(acceptMask: number, onPacket: function, onError: function, family?: 4 | 6)");
    return NULL;
  }
  int family = family_arg == 6 ? AF_INET6 : AF_INET;

  int fd = family == AF_INET6 ? socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6)
                              : socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (fd < 0) {
    int err = errno;
    napi_value e, code, msg;
    CHECK(env, napi_create_string_utf8(env, strerror(err), NAPI_AUTO_LENGTH, &msg));
    CHECK(env, napi_create_string_utf8(env, "HB_ICMP_SOCKET", NAPI_AUTO_LENGTH, &code));
    CHECK(env, napi_create_error(env, code, msg, &e));
    napi_value errnum;
    CHECK(env, napi_create_int32(env, err, &errnum));
    CHECK(env, napi_set_named_property(env, e, "errno", errnum));
    napi_throw(env, e);
    return NULL;
  }
  /* The kernel drops the ICMP types we do not want before they are queued.
   * Not fatal when it cannot: the TypeScript side filters by type too. */
  if (family == AF_INET6) {
    struct icmp6_filter filt6;
    ICMP6_FILTER_SETBLOCKALL(&filt6);
    for (int t = 0; t < 32; t++)
      if (accept_mask & (1u << t)) ICMP6_FILTER_SETPASS(128 + t, &filt6);
    (void)setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filt6, sizeof(filt6));
  } else {
    struct icmp_filter filt;
    filt.data = ~accept_mask;
    (void)setsockopt(fd, SOL_RAW, ICMP_FILTER, &filt, sizeof(filt));
  }

  icmp_sock* s = (icmp_sock*)calloc(1, sizeof(icmp_sock));
  if (s == NULL) {
    close(fd);
    napi_throw_error(env, "HB_ICMP_NOMEM", "out of memory");
    return NULL;
  }
  s->env = env;
  s->fd = fd;
  s->family = family;
  s->handle_closed = 1; /* until the poll handle exists */

  uv_loop_t* loop;
  napi_value resource_name, handle;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok
      || napi_create_string_utf8(env, "HbIcmpSocket", NAPI_AUTO_LENGTH, &resource_name) != napi_ok
      || napi_async_init(env, NULL, resource_name, &s->actx) != napi_ok
      || napi_create_reference(env, argv[1], 1, &s->on_packet) != napi_ok
      || napi_create_reference(env, argv[2], 1, &s->on_error) != napi_ok
      || uv_poll_init(loop, &s->poll, fd) != 0) {
    if (s->on_packet) napi_delete_reference(env, s->on_packet);
    if (s->on_error) napi_delete_reference(env, s->on_error);
    if (s->actx) napi_async_destroy(env, s->actx);
    close(fd);
    free(s);
    napi_throw_error(env, "HB_ICMP_INIT", "cannot attach the ICMP socket to the event loop");
    return NULL;
  }
  s->poll.data = s;
  s->handle_closed = 0;
  s->open = 1;
  int rc = uv_poll_start(&s->poll, UV_READABLE, on_readable);
  if (rc != 0 || napi_create_external(env, s, finalize_handle, NULL, &handle) != napi_ok) {
    shutdown_sock(s);
    s->finalized = 1; /* freed by on_handle_closed */
    napi_throw_error(env, "HB_ICMP_INIT", rc != 0 ? uv_strerror(rc) : "cannot create the socket handle");
    return NULL;
  }
  napi_add_env_cleanup_hook(env, env_cleanup, s);
  return handle;
}

static napi_value Send(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  icmp_sock* s = argc >= 3 ? get_sock(env, argv[0]) : NULL;
  bool is_buffer = false;
  char addr[64];
  size_t addrlen = 0;
  void* data = NULL;
  size_t len = 0;
  if (s == NULL || napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer
      || napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok
      || napi_get_value_string_utf8(env, argv[2], addr, sizeof(addr), &addrlen) != napi_ok) {
    napi_throw_type_error(env, "HB_ICMP_ARGS", "send(handle, data: Buffer, address: string (IPv4 or IPv6, as the socket))");
    return NULL;
  }
  int err = 0;
  struct sockaddr_storage to;
  socklen_t tolen;
  memset(&to, 0, sizeof(to));
  to.ss_family = (sa_family_t)s->family;
  int parsed = s->family == AF_INET6 ? inet_pton(AF_INET6, addr, &((struct sockaddr_in6*)&to)->sin6_addr)
                                     : inet_pton(AF_INET, addr, &((struct sockaddr_in*)&to)->sin_addr);
  tolen = s->family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
  if (!s->open) {
    err = EBADF;
  } else if (parsed != 1) {
    err = EINVAL;
  } else {
    ssize_t n;
    do {
      n = sendto(s->fd, data, len, MSG_DONTWAIT, (struct sockaddr*)&to, tolen);
    } while (n < 0 && errno == EINTR);
    if (n < 0) err = errno;
    else if ((size_t)n != len) err = EMSGSIZE;
  }
  napi_value result;
  CHECK(env, napi_create_int32(env, err, &result));
  return result;
}

static napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  icmp_sock* s = argc >= 1 ? get_sock(env, argv[0]) : NULL;
  if (s == NULL) {
    napi_throw_type_error(env, "HB_ICMP_ARGS", "close(handle)");
    return NULL;
  }
  shutdown_sock(s);
  return NULL;
}

HB_ADDON(
  HB_METHOD("open", Open),
  HB_METHOD("send", Send),
  HB_METHOD("close", Close));
