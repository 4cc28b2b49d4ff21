/*
 * Messaging-path benchmark of real Heartbeat 3.0.6 code: Debian's
 * libplumb.so.2 (cluster-glue 1.0.12) builds, serialises and parses the
 * status heartbeat, and the real HBauth plugin (md5.so / sha1.so) computes
 * the digests, called the way heartbeat's sender (control fields, classic
 * auth field, msg2wirefmt with the trailer) and receiver (wirefmt2msg with
 * authentication, field lookups) call them.
 *
 * Everything is reached through dlopen/dlsym, so no development headers are
 * needed; the few declarations below mirror the libraries' ABI.
 *
 * usage: hb-msgbench METHOD KEY AUTHNUM SECONDS
 *   prints one JSON line: wire (hex of the datagram for the spec's status
 *   example), encode_sign and verify_decode rates (messages per second).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ha_msg;
struct auth_info;
struct auth_ops {
	int (*auth)(const struct auth_info *info, const void *data, size_t len, char *out, int outlen);
	int (*needskey)(void);
};
struct auth_info {
	struct auth_ops *ops;
	const char *name;
	char *key;
};
/* PILS plugin imports as the plugin sees them (cluster-glue pils/plugin.h) */
struct pil_imports {
	int (*register_plugin)(void *plugin, const void *ops);
	int (*unregister_plugin)(void *plugin);
	int (*register_interface)(void *plugin, const char *type, const char *name, void *ops,
		void *close_fn, void **interface_id, void **imports, void *user);
	int (*unregister_interface)(void *interface_id);
	int (*load_plugin)(void *univ, const char *type, const char *name, void *priv);
	void (*log)(int prio, const char *fmt, ...);
	void *(*alloc)(size_t);
	void *(*mrealloc)(void *, size_t);
	void (*mfree)(void *);
	char *(*mstrdup)(const char *);
};

static struct {
	struct ha_msg *(*msg_new)(int);
	void (*msg_del)(struct ha_msg *);
	int (*msg_add)(struct ha_msg *, const char *, const char *);
	int (*msg_mod)(struct ha_msg *, const char *, const char *);
	int (*msg_moduuid)(struct ha_msg *, const char *, const void *);
	int (*stringlen)(const struct ha_msg *);
	int (*to_string_buf)(const struct ha_msg *, char *, size_t, int, int);
	char *(*to_wire)(struct ha_msg *, size_t *);
	struct ha_msg *(*from_wire)(const char *, size_t, int);
	const char *(*get_string)(const struct ha_msg *, const char *);
	void (*set_auth_callback)(int (*)(int, const void *, size_t, char *, size_t));
} plumb;

static struct auth_info info;
static int authnum;
static void *captured_ops;
static char dummy_block[256];

static int fake_register_plugin(void *p, const void *o) { (void)p; (void)o; return 0; }
static int fake_unregister(void *p) { (void)p; return 0; }
static int fake_register_interface(void *plugin, const char *type, const char *name, void *ops,
	void *close_fn, void **interface_id, void **imports, void *user)
{
	(void)plugin; (void)type; (void)name; (void)close_fn; (void)user;
	captured_ops = ops;
	if (interface_id) *interface_id = dummy_block;
	if (imports) *imports = dummy_block;
	return 0;
}
static void fake_log(int prio, const char *fmt, ...) { (void)prio; (void)fmt; }
static char *fake_strdup(const char *s) { return strdup(s); }

/* heartbeat's hb_compute_authentication: negative index = the active method */
static int compute_auth(int index, const void *data, size_t len, char *out, size_t outlen)
{
	if (index < 0) index = authnum;
	if (index != authnum) return -1;
	return info.ops->auth(&info, data, len, out, (int)outlen) ? index : -2;
}

static void *need(void *lib, const char *sym)
{
	void *p = dlsym(lib, sym);
	if (!p) { fprintf(stderr, "hb-msgbench: %s: %s\n", sym, dlerror()); exit(2); }
	return p;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const unsigned char uuid[16] = {
	0x3f, 0x2a, 0x7c, 0x1e, 0x8b, 0x4d, 0x4e, 0x5f, 0x9a, 0x6b, 0x1c, 0x2d, 0x3e, 0x4f, 0x5a, 0x6b
};

/* The sender: status fields, control fields, classic auth field, wire format with trailer. */
static char *encode_sign(unsigned long seq, size_t *wlen)
{
	char seqtext[32], body[4096], token[256], authstring[300];
	struct ha_msg *m = plumb.msg_new(0);
	plumb.msg_add(m, "t", "status");
	plumb.msg_add(m, "st", "active");
	plumb.msg_add(m, "dt", "7530");
	plumb.msg_add(m, "protocol", "1");
	plumb.msg_mod(m, "src", "node1");
	plumb.msg_moduuid(m, "srcuuid", uuid);
	snprintf(seqtext, sizeof seqtext, "%lx", seq);
	plumb.msg_mod(m, "seq", seqtext);
	plumb.msg_mod(m, "hg", "4");
	plumb.msg_mod(m, "ts", "5c2e5f00");
	plumb.msg_mod(m, "ld", "0.00 0.01 0.05 1/123 4567");
	plumb.msg_mod(m, "ttl", "3");
	int need_len = plumb.stringlen(m);
	if (need_len >= (int)sizeof body || plumb.to_string_buf(m, body, need_len, 0, 0) != 1) {
		fprintf(stderr, "hb-msgbench: msg2string_buf failed\n");
		exit(3);
	}
	if (!info.ops->auth(&info, body, strlen(body), token, sizeof token)) exit(3);
	snprintf(authstring, sizeof authstring, "%d %s", authnum, token);
	plumb.msg_mod(m, "auth", authstring);
	char *wire = plumb.to_wire(m, wlen);
	plumb.msg_del(m);
	if (!wire) { fprintf(stderr, "hb-msgbench: msg2wirefmt failed\n"); exit(3); }
	return wire;
}

/* The receiver: parse with authentication on, then the lookups heartbeat does first. */
static int verify_decode(const char *wire, size_t wlen)
{
	struct ha_msg *m = plumb.from_wire(wire, wlen, 1 /* MSG_NEEDAUTH */);
	if (!m) return 0;
	int ok = plumb.get_string(m, "t") && plumb.get_string(m, "src") && plumb.get_string(m, "seq")
		&& plumb.get_string(m, "hg") && plumb.get_string(m, "ts") && plumb.get_string(m, "st");
	plumb.msg_del(m);
	return ok;
}

int main(int argc, char **argv)
{
	if (argc != 5) { fprintf(stderr, "usage: hb-msgbench METHOD KEY AUTHNUM SECONDS\n"); return 2; }
	const char *method = argv[1];
	authnum = atoi(argv[3]);
	double seconds = atof(argv[4]);

	void *lib = dlopen("libplumb.so.2", RTLD_NOW | RTLD_GLOBAL);
	if (!lib) { fprintf(stderr, "hb-msgbench: %s\n", dlerror()); return 2; }
	plumb.msg_new = need(lib, "ha_msg_new");
	plumb.msg_del = need(lib, "ha_msg_del");
	plumb.msg_add = need(lib, "ha_msg_add");
	plumb.msg_mod = need(lib, "cl_msg_modstring");
	plumb.msg_moduuid = need(lib, "cl_msg_moduuid");
	plumb.stringlen = need(lib, "get_stringlen");
	plumb.to_string_buf = need(lib, "msg2string_buf");
	plumb.to_wire = need(lib, "msg2wirefmt");
	plumb.from_wire = need(lib, "wirefmt2msg");
	plumb.get_string = need(lib, "cl_get_string");
	plumb.set_auth_callback = need(lib, "cl_set_authentication_computation_method");

	char path[256], init_name[128];
	snprintf(path, sizeof path, "/usr/lib/heartbeat/plugins/HBauth/%s.so", method);
	snprintf(init_name, sizeof init_name, "HBauth_LTX_%s_pil_plugin_init", method);
	void *plugin = dlopen(path, RTLD_NOW);
	if (!plugin) { fprintf(stderr, "hb-msgbench: %s\n", dlerror()); return 2; }
	int (*init)(void *, struct pil_imports *, void *) = need(plugin, init_name);
	static struct pil_imports imports = {
		fake_register_plugin, fake_unregister, fake_register_interface, fake_unregister, NULL,
		fake_log, malloc, realloc, free, fake_strdup,
	};
	static char plugin_record[512];
	if (init(plugin_record, &imports, NULL) != 0 || !captured_ops) {
		fprintf(stderr, "hb-msgbench: the %s plugin did not register\n", method);
		return 2;
	}
	info.ops = captured_ops;
	info.name = method;
	info.key = argv[2];
	plumb.set_auth_callback(compute_auth);

	size_t wlen;
	char *wire = encode_sign(0x2a, &wlen);
	printf("{\"wire\":\"");
	for (size_t i = 0; i < wlen; i++) printf("%02x", (unsigned char)wire[i]);
	printf("\",\"verified\":%d", verify_decode(wire, wlen));

	unsigned long n = 0, seq = 1;
	double t0 = now(), t;
	do {
		for (int k = 0; k < 1000; k++) { size_t l; free(encode_sign(seq++, &l)); n++; }
		t = now();
	} while (t - t0 < seconds);
	printf(",\"encode_sign\":%.1f", n / (t - t0));

	n = 0;
	t0 = now();
	do {
		for (int k = 0; k < 1000; k++) { if (!verify_decode(wire, wlen)) return 4; n++; }
		t = now();
	} while (t - t0 < seconds);
	printf(",\"verify_decode\":%.1f}\n", n / (t - t0));
	free(wire);
	return 0;
}
