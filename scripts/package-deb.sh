#!/usr/bin/env bash
# package-deb.sh — builds heartbeat-ts_<version>_<arch>.deb with dpkg-deb
# (`npm run package` runs `npm run build` first, then this).
#
# The package is laid out as Debian's heartbeat package is, so that it
# replaces it in place (README.md, section "Debian package"):
#   /usr/lib/heartbeat-ts/            dist/, bin/, package.json, the production
#                                     node_modules, the native addon
#   /usr/sbin/heartbeat, /usr/bin/{cl_status,hb_status,hb_standby,hb_takeover,hb_rsctest,hb2pcmk}
#   /usr/share/heartbeat/{hb_standby,hb_takeover}, /usr/libexec/heartbeat/{heartbeat,ipfail},
#   /usr/lib/heartbeat/{heartbeat,hb_standby,hb_takeover,ipfail}
#                                     where 3.0.6 and older Heartbeat packages keep them
#   /etc/init.d/heartbeat, /lib/systemd/system/heartbeat.service,
#   /etc/ha.d/resource.d/*, /etc/logrotate.d/heartbeat       (conffiles)
#   /usr/share/doc/heartbeat-ts/      copyright, changelog, README, examples/
#
# Usage: package-deb.sh [--out DIR]   (default: the repository's top directory)
# The production node_modules come from `npm ci --omit=dev --ignore-scripts`
# in a staging copy (npm's cache, else the registry); the native addon is
# built for this machine again, with Debian's hardening flags (dpkg-buildflags).
set -euo pipefail

die() { echo "package-deb: $*" >&2; exit 1; }
say() { echo "package-deb: $*"; }

REPO=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
OUT=$REPO
while [ $# -gt 0 ]; do
  case $1 in
    --out) [ $# -ge 2 ] || die "--out needs a directory"; OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[ -d "$OUT" ] || die "output directory $OUT does not exist"
OUT=$(cd "$OUT" && pwd)

PKG=$REPO/packaging/debian
[ -f "$REPO/dist/daemon/heartbeat.js" ] || die "$REPO/dist is missing: run 'npm run build' first"
for t in dpkg-deb dpkg-shlibdeps npm strip; do
  command -v "$t" >/dev/null || die "$t not found (bash scripts/ensure-os-packages.sh installs it)"
done

VERSION=$(node -p "require('$REPO/package.json').version")
ARCH=$(dpkg --print-architecture)
case $ARCH in
  amd64) NODE_ARCH=x64 ;; arm64) NODE_ARCH=arm64 ;; armhf) NODE_ARCH=arm ;; i386) NODE_ARCH=ia32 ;;
  *) die "unsupported architecture $ARCH" ;;
esac
head -1 "$PKG/changelog" | grep -q "^heartbeat-ts ($VERSION) " ||
  die "packaging/debian/changelog does not start with version $VERSION (package.json): add an entry"
MAINTAINER=${DEBFULLNAME:-$(git -C "$REPO" config user.name || echo heartbeat-ts)}
MAINTAINER="$MAINTAINER <${DEBEMAIL:-$(git -C "$REPO" config user.email || echo heartbeat-ts@localhost)}>"

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/heartbeat-ts-deb.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
ROOT=$STAGE/root
APP=$ROOT/usr/lib/heartbeat-ts
DOC=$ROOT/usr/share/doc/heartbeat-ts
umask 022

# ------------------------------------------------------------- the application
mkdir -p "$APP/bin" "$APP/native/build/Release"
# The daemon and its tools; not the development parts (benchmarks, demo, lab).
(cd "$REPO" && find dist/daemon dist/lib -type f ! -name '*.map' -print0 |
  tar -cf - --null -T -) | tar -xf - -C "$APP"
install -m 644 "$REPO/package.json" "$REPO/package-lock.json" "$APP/"
install -m 755 "$REPO"/bin/{heartbeat,cl_status,hb_status,hb_standby,hb_takeover,hb_rsctest,hb2pcmk} "$APP/bin/"
install -D -m 755 "$REPO/packaging/ocf/hbscript" "$APP/packaging/ocf/hbscript"
say "building the native addon (node-gyp, dpkg-buildflags hardening=+all)"
mkdir "$STAGE/native" && cp "$REPO"/native/{binding.gyp,build.mjs} "$REPO"/native/*.c "$REPO"/native/*.h "$STAGE/native/"
(
  export DEB_BUILD_MAINT_OPTIONS=hardening=+all
  CFLAGS=$(dpkg-buildflags --get CFLAGS) CPPFLAGS=$(dpkg-buildflags --get CPPFLAGS) LDFLAGS=$(dpkg-buildflags --get LDFLAGS)
  export CFLAGS CPPFLAGS LDFLAGS
  node "$STAGE/native/build.mjs" > "$STAGE/native.log" 2>&1
) || { tail -20 "$STAGE/native.log" >&2; die "building the native addon failed"; }
install -m 644 "$STAGE"/native/build/Release/*.node "$APP/native/build/Release/"

say "npm ci --omit=dev (production dependencies)"
(cd "$APP" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null) ||
  die "npm ci --omit=dev failed in the staging copy"
rm -f "$APP/package-lock.json" "$APP/node_modules/.package-lock.json"
# serialport's prebuilt bindings: only the one this machine runs (glibc).
for d in "$APP"/node_modules/@serialport/bindings-cpp/prebuilds/*; do
  [ "$(basename "$d")" = "linux-$NODE_ARCH" ] || rm -rf "$d"
done
find "$APP/node_modules" -name '*.musl.node' -delete
# Sources, type declarations and tests of the dependencies are not run.
find "$APP/node_modules" \( -name '*.md' ! -iname 'license*' -o -name '*.d.ts' -o -name '*.map' -o -name '*.ts' \
  -o -name '.*' -type f -o -name '*.cc' -o -name '*.cpp' -o -name '*.c' -o -name '*.h' -o -name '*.gyp' -o -name '*.gypi' \) -type f -delete
# (a dependency's documentation site must not ship: it would load scripts from CDNs.)
find "$APP/node_modules" \( -name '*.html' -o -name '*.cmd' -o -name '*.ps1' \) -type f -delete
find "$APP/node_modules" -depth -type d \( -name test -o -name tests -o -name benchmarks -o -name '.*' \) -exec rm -rf {} +
rm -rf "$APP/node_modules/node-addon-api/tools"
find "$APP/node_modules" -depth -type d -empty -delete
find "$APP" -name '*.node' -type f -exec strip --strip-unneeded --remove-section=.comment --remove-section=.note {} +
# What was left must still load: the dependencies and every native addon.
(cd "$APP" && node --input-type=module -e "
  const { createRequire } = await import('node:module');
  const req = createRequire('$APP/package.json');
  req('serialport'); req('@serialport/bindings-cpp').autoDetect();
  (await import('$APP/dist/lib/media/icmp-socket.js')).loadIcmpAddon();
  const { readdirSync } = await import('node:fs');
  for (const f of readdirSync('$APP/native/build/Release')) req('$APP/native/build/Release/' + f);") ||
  die "the staged application does not load (see above)"
# The entry points carry a #! line: executable, as scripts should be.
grep -l '^#!' "$APP"/dist/daemon/*.js | xargs -r chmod 755
node - "$APP" <<'EOF' || die "a production dependency has a licence other than MIT: update packaging/debian/copyright"
const { readdirSync, readFileSync, existsSync } = require('node:fs');
const { join } = require('node:path');
const bad = [];
const walk = (dir) => {
  for (const e of existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : []) {
    if (!e.isDirectory()) continue;
    const d = join(dir, e.name);
    if (e.name.startsWith('@')) { walk(d); continue; }
    const pj = join(d, 'package.json');
    if (existsSync(pj)) { const p = JSON.parse(readFileSync(pj, 'utf8')); if (!['MIT'].includes(p.license)) bad.push(`${p.name}: ${p.license}`); }
    walk(join(d, 'node_modules'));
  }
};
walk(join(process.argv[2], 'node_modules'));
if (bad.length) { console.error(bad.join('\n')); process.exit(1); }
EOF

# ------------------------------------------------------------- commands
wrapper() {   # wrapper PATH TOOL
  {
    echo '#!/bin/sh'
    echo "# $2 of heartbeat-ts (Debian package): runs /usr/lib/heartbeat-ts/bin/$2 with the packaged node."
    echo 'HEARTBEAT_TS_NODE=${HEARTBEAT_TS_NODE:-/usr/bin/node}'
    echo 'export HEARTBEAT_TS_NODE'
    if [ "$2" != heartbeat ]; then
      echo 'HEARTBEAT_TS_ARGV0=${HEARTBEAT_TS_ARGV0:-$0}'
      echo 'export HEARTBEAT_TS_ARGV0'
    fi
    echo "exec /usr/lib/heartbeat-ts/bin/$2 \"\$@\""
  } > "$ROOT$1"
  chmod 755 "$ROOT$1"
}
mkdir -p "$ROOT/usr/sbin" "$ROOT/usr/bin" "$ROOT/usr/share/heartbeat" "$ROOT/usr/libexec/heartbeat"
wrapper /usr/sbin/heartbeat heartbeat
for t in cl_status hb_status hb_standby hb_takeover hb_rsctest hb2pcmk; do wrapper "/usr/bin/$t" "$t"; done
# Where Heartbeat 3.0.6 (Debian) has them: users' rc.d scripts and ha.cf call these.
ln -s ../../bin/hb_standby "$ROOT/usr/share/heartbeat/hb_standby"
ln -s ../../bin/hb_takeover "$ROOT/usr/share/heartbeat/hb_takeover"
ln -s ../../sbin/heartbeat "$ROOT/usr/libexec/heartbeat/heartbeat"
# ha.cf's `respawn hacluster /usr/libexec/heartbeat/ipfail`: heartbeat-ts's own ipfail.
{
  echo '#!/bin/sh'
  echo '# ipfail of heartbeat-ts (Debian package), where Heartbeat 3.0.6 has its ipfail.'
  echo 'exec "${HEARTBEAT_TS_NODE:-/usr/bin/node}" /usr/lib/heartbeat-ts/dist/daemon/ipfail.js "$@"'
} > "$ROOT/usr/libexec/heartbeat/ipfail"
chmod 755 "$ROOT/usr/libexec/heartbeat/ipfail"
# Older Heartbeat packages kept all of these in /usr/lib/heartbeat; scripts and ha.cf files still name them there.
mkdir -p "$ROOT/usr/lib/heartbeat"
for t in hb_standby hb_takeover; do ln -s "../../bin/$t" "$ROOT/usr/lib/heartbeat/$t"; done
ln -s ../../sbin/heartbeat "$ROOT/usr/lib/heartbeat/heartbeat"
ln -s ../../libexec/heartbeat/ipfail "$ROOT/usr/lib/heartbeat/ipfail"

# ------------------------------------------------------------- /etc, unit
install -D -m 755 "$REPO/daemon/init.d/heartbeat" "$ROOT/etc/init.d/heartbeat"
install -D -m 644 "$PKG/logrotate" "$ROOT/etc/logrotate.d/heartbeat"
install -D -m 644 "$REPO/daemon/heartbeat.service" "$ROOT/lib/systemd/system/heartbeat.service"
mkdir -p "$ROOT/etc/ha.d/resource.d"
for f in "$REPO"/resource.d/*; do
  case $(basename "$f") in *.md) continue ;; esac
  mode=644; [ -x "$f" ] && mode=755
  install -m $mode "$f" "$ROOT/etc/ha.d/resource.d/"
done

# ------------------------------------------------------------- state directories
# Owners (hacluster, haclient) are set by postinst once the accounts exist.
install -d -m 755 "$ROOT/var/lib/heartbeat" "$ROOT/var/lib/heartbeat/cores"

# ------------------------------------------------------------- documentation
mkdir -p "$DOC/examples"
install -m 644 "$PKG/copyright" "$DOC/copyright"
sed "s|@MAINTAINER@|$MAINTAINER|" "$PKG/changelog" | gzip -9n > "$DOC/changelog.gz"
gzip -9n < "$REPO/README.md" > "$DOC/README.md.gz"
for f in "$REPO"/ha.d/*; do install -m 644 "$f" "$DOC/examples/"; done
for m in "$REPO"/packaging/man/*.[18]; do
  sec=${m##*.}
  mkdir -p "$ROOT/usr/share/man/man$sec"
  gzip -9n < "$m" > "$ROOT/usr/share/man/man$sec/$(basename "$m").gz"
done
install -D -m 644 "$PKG/lintian-overrides" "$ROOT/usr/share/lintian/overrides/heartbeat-ts"

# ------------------------------------------------------------- control
mkdir -p "$ROOT/DEBIAN"
for s in preinst postinst prerm postrm; do install -m 755 "$PKG/$s" "$ROOT/DEBIAN/$s"; done
(cd "$ROOT" && find etc -type f | sort | sed 's|^|/|') > "$ROOT/DEBIAN/conffiles"
# Shared-library dependencies of the native code (libc), as dh_shlibdeps finds them.
mkdir -p "$STAGE/debian" && printf 'Source: heartbeat-ts\n\nPackage: heartbeat-ts\nArchitecture: any\n' > "$STAGE/debian/control"
SHLIBS=$(cd "$STAGE" && find root -name '*.node' -print0 | xargs -0 dpkg-shlibdeps -O 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$SHLIBS" ] || die "dpkg-shlibdeps found no shared-library dependencies for the native addons"
SIZE=$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@INSTALLED_SIZE@|$SIZE|" \
    -e "s|@SHLIBS@|$SHLIBS|" -e "s|@MAINTAINER@|$MAINTAINER|" "$PKG/control.in" > "$ROOT/DEBIAN/control"
(cd "$ROOT" && find . -path ./DEBIAN -prune -o -type f -print0 | sort -z | xargs -0 md5sum | sed 's|  \./|  |') > "$ROOT/DEBIAN/md5sums"
chmod 644 "$ROOT/DEBIAN/control" "$ROOT/DEBIAN/conffiles" "$ROOT/DEBIAN/md5sums"

DEB=$OUT/heartbeat-ts_${VERSION}_${ARCH}.deb
dpkg-deb --build -Zxz --root-owner-group "$ROOT" "$DEB" >/dev/null
say "built $DEB ($(du -h "$DEB" | cut -f1), installed size ${SIZE} KiB)"
