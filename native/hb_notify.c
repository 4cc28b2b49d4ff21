/*
 * hb_notify: systemd's notify protocol (sd_notify) for Type=notify units.
 * Node's net module has no datagram AF_UNIX sockets, and NOTIFY_SOCKET may
 * name an abstract socket ("@name": a leading NUL, and an address length
 * that counts exactly the name), which hb_net's path-based send cannot
 * express. Also the receiving side, for the tests that play systemd.
 *
 * JS API (arguments are checked; misuse throws TypeError). Failures are
 * errno values so that the caller decides how loudly to report them:
 *   notifySend(address, buf)  -> 0 or errno   (one datagram; socket opened and closed)
 *   notifyBind(address)       -> fd (>= 0) or -errno   (non-blocking receiver)
 *   notifyRecv(fd)            -> Buffer, or null when nothing is queued; throws on errors
 * (the receiver is closed with hb_net's closeFd)
 * `address`: a path, or "@name" for the abstract namespace.
 */
#include <node_api.h>

#include "hb_addon.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define NOTIFY_MAX 4096

/* Fills `sa` from a JS string; returns the address length, or 0 if it is not a usable address. */
static socklen_t address(napi_env env, napi_value v, struct sockaddr_un* sa) {
  char text[sizeof(sa->sun_path) + 1];
  size_t len = 0;
  memset(sa, 0, sizeof(*sa));
  sa->sun_family = AF_UNIX;
  if (napi_get_value_string_utf8(env, v, text, sizeof(text), &len) != napi_ok) return 0;
  if (len < 2 || len > sizeof(sa->sun_path) - 1 || (text[0] != '/' && text[0] != '@')) return 0;
  memcpy(sa->sun_path, text, len);
  if (text[0] == '@') {
    sa->sun_path[0] = '\0';
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
  }
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
}

static int get_fd(napi_env env, napi_value v, int32_t* fd) {
  return napi_get_value_int32(env, v, fd) == napi_ok && *fd >= 0;
}

static napi_value NotifySend(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  struct sockaddr_un sa;
  bool is_buffer = false;
  void* data = NULL;
  size_t len = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2
      || napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer
      || napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
    napi_throw_type_error(env, "HB_NOTIFY_ARGS", "notifySend(address: string, data: Buffer)");
    return NULL;
  }
  socklen_t salen = address(env, argv[0], &sa);
  if (salen == 0) return hb_int(env, EINVAL);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return hb_int(env, errno);
  ssize_t n;
  do {
    n = sendto(fd, data, len, MSG_NOSIGNAL, (struct sockaddr*)&sa, salen);
  } while (n < 0 && errno == EINTR);
  int err = n < 0 ? errno : ((size_t)n == len ? 0 : EMSGSIZE);
  close(fd);
  return hb_int(env, err);
}

static napi_value NotifyBind(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  struct sockaddr_un sa;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) {
    napi_throw_type_error(env, "HB_NOTIFY_ARGS", "notifyBind(address: string)");
    return NULL;
  }
  socklen_t salen = address(env, argv[0], &sa);
  if (salen == 0) return hb_int(env, -EINVAL);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return hb_int(env, -errno);
  if (bind(fd, (struct sockaddr*)&sa, salen) < 0) {
    int err = errno;
    close(fd);
    return hb_int(env, -err);
  }
  return hb_int(env, fd);
}

static napi_value NotifyRecv(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  char buf[NOTIFY_MAX];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || !get_fd(env, argv[0], &fd)) {
    napi_throw_type_error(env, "HB_NOTIFY_ARGS", "notifyRecv(fd: number)");
    return NULL;
  }
  ssize_t n;
  do {
    n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  napi_value r;
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (napi_get_null(env, &r) != napi_ok) return NULL;
      return r;
    }
    napi_throw_error(env, "HB_NOTIFY_RECV", strerror(errno));
    return NULL;
  }
  if (napi_create_buffer_copy(env, (size_t)n, buf, NULL, &r) != napi_ok) return NULL;
  return r;
}

HB_ADDON(
  HB_METHOD("notifySend", NotifySend),
  HB_METHOD("notifyBind", NotifyBind),
  HB_METHOD("notifyRecv", NotifyRecv));
