/**
 * Test helper: evaluates inputs with the real libplumb.so.2 (cluster-glue, a
 * dependency of the heartbeat package) through Python ctypes. python3 is a
 * dependency of Debian's heartbeat package too, so both are present wherever
 * heartbeat is installed; if not, the caller fails with a clear message.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const PYTHON = '/usr/bin/python3';

const SCRIPT = `
import ctypes, json, sys
lib = ctypes.CDLL('libplumb.so.2')
lib.cl_get_msec.restype = ctypes.c_long
req = json.load(sys.stdin)
out = {'msec': [], 'bool': []}
for s in req['msec']:
    out['msec'].append(lib.cl_get_msec(s.encode()))
for s in req['bool']:
    v = ctypes.c_int(-7)
    rc = lib.cl_str_to_boolean(s.encode(), ctypes.byref(v))
    out['bool'].append(None if rc != 1 else bool(v.value))
json.dump(out, sys.stdout)
`;

export interface PlumbAnswers { msec: number[]; bool: (boolean | null)[] }

export function askLibplumb(msec: string[], bool: string[]): PlumbAnswers {
  if (!existsSync(PYTHON)) {
    throw new Error(`${PYTHON} is missing: install the heartbeat package (it depends on python3 and libplumb2) to run this test`);
  }
  const r = spawnSync(PYTHON, ['-c', SCRIPT], { input: JSON.stringify({ msec, bool }), encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`calling libplumb.so.2 through python3 failed (is the heartbeat package installed?): ${r.stderr}`);
  }
  return JSON.parse(r.stdout) as PlumbAnswers;
}
