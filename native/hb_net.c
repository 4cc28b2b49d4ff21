/*
 * hb_net: the few socket calls Node's own modules cannot make, for the media
 * and the syslog writer (a separate addon from hb_icmp so that each stays
 * small and edits to one never touch the other).
 *
 *  - SO_BINDTODEVICE on a UDP socket Node already owns: Heartbeat ties its
 *    bcast/ucast6 sockets to one interface, so a datagram is heard by the
 *    medium of the link it arrived on and by no other.
 *  - Datagram AF_UNIX sockets (syslog's /dev/log): Node's net module only
 *    does stream sockets.
 *
 * JS API (arguments are checked; misuse throws TypeError). Every call is a
 * single non-blocking system call; failures are returned as errno values so
 * that the caller decides how loudly to report them:
 *   bindToDevice(fd, ifname)   -> 0 or errno
 *   unixDgramOpen()            -> fd (>= 0) or -errno
 *   unixDgramSend(fd, path, buf) -> 0 or errno   (sendto, MSG_DONTWAIT)
 *   closeFd(fd)                -> 0 or errno
 */
#include <node_api.h>

#include "hb_addon.h"

#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int get_fd(napi_env env, napi_value v, int32_t* fd) {
  return napi_get_value_int32(env, v, fd) == napi_ok && *fd >= 0;
}

static napi_value BindToDevice(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  char ifname[IFNAMSIZ + 1];
  size_t len = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || !get_fd(env, argv[0], &fd)
      || napi_get_value_string_utf8(env, argv[1], ifname, sizeof(ifname), &len) != napi_ok) {
    napi_throw_type_error(env, "HB_NET_ARGS", "bindToDevice(fd: number, ifname: string)");
    return NULL;
  }
  /* A longer name was truncated by the copy: the kernel would bind to another device. */
  if (len == 0 || len >= IFNAMSIZ) return hb_int(env, ENODEV);
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)(len + 1)) < 0) return hb_int(env, errno);
  return hb_int(env, 0);
}

static napi_value UnixDgramOpen(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  return hb_int(env, fd < 0 ? -errno : fd);
}

static napi_value UnixDgramSend(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t fd;
  struct sockaddr_un to;
  size_t pathlen = 0;
  bool is_buffer = false;
  void* data = NULL;
  size_t len = 0;
  memset(&to, 0, sizeof(to));
  to.sun_family = AF_UNIX;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 || !get_fd(env, argv[0], &fd)
      || napi_get_value_string_utf8(env, argv[1], to.sun_path, sizeof(to.sun_path), &pathlen) != napi_ok
      || napi_is_buffer(env, argv[2], &is_buffer) != napi_ok || !is_buffer
      || napi_get_buffer_info(env, argv[2], &data, &len) != napi_ok) {
    napi_throw_type_error(env, "HB_NET_ARGS", "unixDgramSend(fd: number, path: string, data: Buffer)");
    return NULL;
  }
  if (pathlen == 0 || pathlen >= sizeof(to.sun_path) - 1) return hb_int(env, ENAMETOOLONG);
  ssize_t n;
  do {
    n = sendto(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr*)&to, sizeof(to));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return hb_int(env, errno);
  return hb_int(env, (size_t)n == len ? 0 : EMSGSIZE);
}

static napi_value CloseFd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || !get_fd(env, argv[0], &fd)) {
    napi_throw_type_error(env, "HB_NET_ARGS", "closeFd(fd: number)");
    return NULL;
  }
  return hb_int(env, close(fd) < 0 ? errno : 0);
}

HB_ADDON(
  HB_METHOD("bindToDevice", BindToDevice),
  HB_METHOD("unixDgramOpen", UnixDgramOpen),
  HB_METHOD("unixDgramSend", UnixDgramSend),
  HB_METHOD("closeFd", CloseFd));
