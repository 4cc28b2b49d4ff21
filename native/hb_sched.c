/*
 * The realtime knobs of ha.cf (`realtime`, `rtprio`, `memreserve`), as
 * Heartbeat 3.0.6 applies them through cluster-glue: round-robin realtime
 * scheduling for the daemon's main thread (the one that sends heartbeats)
 * and a bound on how long a realtime thread may run without blocking.
 * mlockall is not used: V8 aborts when it changes the permissions of locked
 * pages (measured, with MCL_FUTURE and with MCL_CURRENT|MCL_ONFAULT). What
 * is locked instead is the program's code: the read-only file mappings (the
 * node binary, its libraries, the addons), which V8 never re-protects.
 *
 * Children must not inherit the realtime policy (3.0.6 resets it in every
 * child it forks; Node forks from the main thread), so the policy is set
 * with SCHED_RESET_ON_FORK. Every call returns 0 or an errno, never throws.
 */
#define _GNU_SOURCE
#include <node_api.h>

#include "hb_addon.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

static int32_t int_arg(napi_env env, napi_callback_info info, size_t i, int32_t fallback) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t v = fallback;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || i >= argc) return fallback;
  if (napi_get_value_int32(env, argv[i], &v) != napi_ok) return fallback;
  return v;
}

/* makeRealtime(priority): SCHED_RR at priority for the calling (main) thread, reset on fork. */
static napi_value MakeRealtime(napi_env env, napi_callback_info info) {
  struct sched_param sp;
  memset(&sp, 0, sizeof(sp));
  sp.sched_priority = int_arg(env, info, 0, sched_get_priority_min(SCHED_RR));
  if (sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &sp) < 0) return hb_int(env, errno);
  return hb_int(env, 0);
}

/* priorityMin(): the lowest SCHED_RR priority (3.0.6's default when rtprio is not set). */
static napi_value PriorityMin(napi_env env, napi_callback_info info) {
  (void)info;
  return hb_int(env, sched_get_priority_min(SCHED_RR));
}

/* limitRealtimeRun(usec): RLIMIT_RTTIME, the CPU time a realtime thread may use without blocking. */
static napi_value LimitRealtimeRun(napi_env env, napi_callback_info info) {
  int32_t usec = int_arg(env, info, 0, 0);
  if (usec <= 0) return hb_int(env, EINVAL);
  struct rlimit rl = { (rlim_t)usec, (rlim_t)usec };
  if (setrlimit(RLIMIT_RTTIME, &rl) < 0) return hb_int(env, errno);
  return hb_int(env, 0);
}

/*
 * lockCode(): every read-only, file-backed mapping of this process locked
 * with MLOCK_ONFAULT: the pages in memory now, and any page of those ranges
 * once it is touched, stay in memory. An idle daemon's code is exactly what
 * proactive reclaim pages out, and the page faults that bring it back stall
 * the next heartbeat. Pages never touched stay out (RSS does not grow).
 * Returns 0 or the first errno.
 */
static napi_value LockCode(napi_env env, napi_callback_info info) {
  (void)info;
  FILE *maps = fopen("/proc/self/maps", "re");
  if (maps == NULL) return hb_int(env, errno);
  char line[4096];
  int first_error = 0;
  while (fgets(line, sizeof(line), maps) != NULL) {
    unsigned long start, end;
    char perms[8];
    int path_at = 0;
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms, &path_at) < 3 || path_at == 0) continue;
    if (line[path_at] != '/' || perms[0] != 'r' || perms[1] == 'w') continue;
    if (mlock2((void *)start, end - start, MLOCK_ONFAULT) < 0 && first_error == 0) first_error = errno;
  }
  fclose(maps);
  return hb_int(env, first_error);
}

HB_ADDON(
  HB_METHOD("makeRealtime", MakeRealtime),
  HB_METHOD("priorityMin", PriorityMin),
  HB_METHOD("limitRealtimeRun", LimitRealtimeRun),
  HB_METHOD("lockCode", LockCode));
