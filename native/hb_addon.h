/*
 * What every heartbeat-ts addon shares: exporting its methods. One place,
 * so each addon's Init is a table of names and functions.
 */
#ifndef HB_ADDON_H
#define HB_ADDON_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

/* A small integer result (an errno, a count) as a JavaScript number. */
static inline napi_value hb_int(napi_env env, int32_t v) {
  napi_value r;
  if (napi_create_int32(env, v, &r) != napi_ok) return NULL;
  return r;
}

/* One exported method: its JavaScript name and its C function. */
#define HB_METHOD(name, fn) { name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL }

/* Defines the methods on exports; NULL with a pending exception when that fails. */
static inline napi_value hb_export_methods(napi_env env, napi_value exports, const napi_property_descriptor* props, size_t n) {
  if (napi_define_properties(env, exports, n, props) != napi_ok) return NULL;
  return exports;
}

#define HB_EXPORT_METHODS(env, exports, props) hb_export_methods(env, exports, props, sizeof(props) / sizeof((props)[0]))

/* The addon's Init and module registration: HB_ADDON(HB_METHOD("name", Fn), ...). */
#define HB_ADDON(...)                                                   \
  static napi_value Init(napi_env env, napi_value exports) {            \
    const napi_property_descriptor props[] = { __VA_ARGS__ };           \
    return HB_EXPORT_METHODS(env, exports, props);                      \
  }                                                                     \
  NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)

#endif
