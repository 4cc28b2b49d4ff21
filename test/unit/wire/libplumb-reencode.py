"""Feeds datagrams (hex, one per stdin line) to Debian's real libplumb.so.2 and prints what it
re-serialises them to: "OK <classic hex> <netstring hex>" or "FAIL". Used by libplumb.test.ts to
cross-check the TypeScript codec against the C one (authentication off: need_auth = 0)."""
import ctypes
import sys

lib = ctypes.CDLL(sys.argv[1] if len(sys.argv) > 1 else "libplumb.so.2")
lib.wirefmt2msg.restype = ctypes.c_void_p
lib.wirefmt2msg.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
lib.msg2string.restype = ctypes.c_void_p
lib.msg2string.argtypes = [ctypes.c_void_p]
lib.msg2netstring.restype = ctypes.c_void_p
lib.msg2netstring.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t)]
lib.ha_msg_del.argtypes = [ctypes.c_void_p]
libc = ctypes.CDLL("libc.so.6")
libc.free.argtypes = [ctypes.c_void_p]

for line in sys.stdin:
    data = bytes.fromhex(line.strip())
    # Receivers append a NUL after the bytes they read (spec 1.5).
    buf = ctypes.create_string_buffer(data, len(data) + 1)
    msg = lib.wirefmt2msg(buf, len(data), 0)
    if not msg:
        print("FAIL", flush=True)
        continue
    s = lib.msg2string(msg)
    n = ctypes.c_size_t(0)
    ns = lib.msg2netstring(msg, ctypes.byref(n))
    if not s or not ns:
        print("FAIL", flush=True)
    else:
        print("OK", ctypes.string_at(s).hex(), ctypes.string_at(ns, n.value).hex(), flush=True)
    for p in (s, ns):
        if p:
            libc.free(p)
    lib.ha_msg_del(msg)
