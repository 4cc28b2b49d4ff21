/*
 * hb_peercred: who connected to one of the daemon's unix sockets, as the
 * kernel recorded it when the client called connect().
 *
 * Separate from hb_icmp.c (its own addon target in binding.gyp) so the ping
 * media and the API servers can change independently.
 *
 * Why not /proc or sock_diag: both describe whoever holds the client's socket
 * *now*. A client can connect, queue requests and hand the descriptor to a
 * setuid-root program (or exec one) before the server looks; the kernel's
 * SO_PEERCRED/SO_PEERGROUPS record is taken at connect() and never changes.
 *
 * JS API (arguments checked; misuse throws TypeError):
 *   peerCred(fd) -> { pid, uid, gid, groups: number[] | null }
 *       groups is null when the kernel has no SO_PEERGROUPS (before 4.13).
 *       A failing getsockopt throws an Error with code "HB_PEERCRED" and the
 *       numeric `errno`.
 */
#define _GNU_SOURCE
#include <node_api.h>

#include "hb_addon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

/* NGROUPS_MAX on Linux is 65536; start small and grow once on ERANGE. */
#define FIRST_GROUPS 64

static napi_value throw_errno(napi_env env, int err, const char* what) {
  napi_value e, code, msg, errnum;
  char text[160];
  snprintf(text, sizeof text, "%s: %s", what, strerror(err));
  if (napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg) != napi_ok
      || napi_create_string_utf8(env, "HB_PEERCRED", NAPI_AUTO_LENGTH, &code) != napi_ok
      || napi_create_error(env, code, msg, &e) != napi_ok
      || napi_create_int32(env, err, &errnum) != napi_ok
      || napi_set_named_property(env, e, "errno", errnum) != napi_ok) {
    napi_throw_error(env, "HB_PEERCRED", text);
    return NULL;
  }
  napi_throw(env, e);
  return NULL;
}

static int set_number(napi_env env, napi_value obj, const char* key, double v) {
  napi_value n;
  return napi_create_double(env, v, &n) == napi_ok && napi_set_named_property(env, obj, key, n) == napi_ok;
}

/* The supplementary groups at connect time, or NULL (JS null) when unsupported. */
static int peer_groups(napi_env env, int fd, napi_value* out, int* err) {
  socklen_t len = FIRST_GROUPS * sizeof(gid_t);
  gid_t* buf = malloc(len);
  if (buf == NULL) { *err = ENOMEM; return 0; }
  if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, buf, &len) < 0) {
    if (errno == ERANGE) {
      /* The kernel wrote the size it needs into len. */
      gid_t* bigger = realloc(buf, len);
      if (bigger == NULL) { free(buf); *err = ENOMEM; return 0; }
      buf = bigger;
      if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, buf, &len) < 0) { *err = errno; free(buf); return 0; }
    } else if (errno == ENOPROTOOPT) {
      free(buf);
      return napi_get_null(env, out) == napi_ok;
    } else {
      *err = errno;
      free(buf);
      return 0;
    }
  }
  size_t count = len / sizeof(gid_t);
  int ok = napi_create_array_with_length(env, count, out) == napi_ok;
  for (size_t i = 0; ok && i < count; i++) {
    napi_value g;
    ok = napi_create_double(env, (double)buf[i], &g) == napi_ok && napi_set_element(env, *out, (uint32_t)i, g) == napi_ok;
  }
  free(buf);
  return ok;
}

static napi_value PeerCred(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1
      || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "HB_PEERCRED_ARGS", "peerCred(fd: non-negative integer)");
    return NULL;
  }
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return throw_errno(env, errno, "getsockopt(SO_PEERCRED)");
  if (len != sizeof cred) return throw_errno(env, EPROTO, "getsockopt(SO_PEERCRED) short answer");
  napi_value obj, groups;
  int err = 0;
  if (!peer_groups(env, fd, &groups, &err)) return throw_errno(env, err ? err : EIO, "getsockopt(SO_PEERGROUPS)");
  if (napi_create_object(env, &obj) != napi_ok
      || !set_number(env, obj, "pid", (double)cred.pid)
      || !set_number(env, obj, "uid", (double)cred.uid)
      || !set_number(env, obj, "gid", (double)cred.gid)
      || napi_set_named_property(env, obj, "groups", groups) != napi_ok) {
    napi_throw_error(env, "HB_PEERCRED", "cannot build the credentials object");
    return NULL;
  }
  return obj;
}

HB_ADDON(
  HB_METHOD("peerCred", PeerCred));
