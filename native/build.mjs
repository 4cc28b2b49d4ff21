// Builds the raw ICMP addon (hb_icmp.c) with node-gyp; run by `npm ci` through
// the package's install script, or by hand: `node native/build.mjs`.
//
// node-gyp needs Node's headers. It downloads them unless told where they
// are, and the machines we build on cannot download. So: use npm's `nodedir`
// setting when npm passes one, else the headers installed next to the running
// node (`<prefix>/include/node`, as Debian and NodeSource packages install
// them), and only then fall back to node-gyp's own lookup.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function nodeDir() {
  const fromNpm = process.env.npm_config_nodedir;
  if (fromNpm && existsSync(join(fromNpm, 'include', 'node', 'node_api.h'))) return fromNpm;
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  return undefined;
}

// npm runs scripts with its bundled node-gyp named in npm_config_node_gyp (and on
// PATH); by hand, use the node-gyp that ships inside npm next to this node.
const bundled = join(dirname(dirname(process.execPath)), 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gypJs = [process.env.npm_config_node_gyp, bundled].find((p) => p && existsSync(p));
const [cmd, pre] = gypJs ? [process.execPath, [gypJs]] : ['node-gyp', []];
const dir = nodeDir();
const args = [...pre, 'rebuild', `--directory=${here}`, ...(dir ? [`--nodedir=${dir}`] : [])];
const r = spawnSync(cmd, args, { stdio: 'inherit' });
if (r.error) {
  console.error(`native/build.mjs: cannot run node-gyp (${r.error.message}); it ships with npm`);
  process.exit(1);
}
process.exit(r.status ?? 1);
