/**
 * What hb_rsctest needs before it runs a script: the daemon's view of the
 * script (lookup rule, static checks), the daemon's script environment
 * (from ha.cf when there is one), its deadlines, and whether heartbeat
 * itself manages the resource on this node right now.
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import type { Resource } from '../../lib/config/types.js';
import { loadConfiguration, nodeName } from '../../lib/config/load.js';
import { parseHaCf } from '../../lib/config/hacf.js';
import { inspectScript, runnableFileFindings, type ScriptFinding, unrunnableReason } from '../../lib/config/script-files.js';
import { locateScript } from '../../lib/resources/script-runner.js';
import { memoryLogger } from '../../lib/util/log.js';
import type { Paths } from '../paths.js';
import { runState } from '../pidfile.js';
import { scriptEnvironment } from '../resources.js';
import type { Check } from './rsctest-judge.js';

export interface Located {
  path: string | undefined;
  checks: Check[];
}

const asCheck = (f: ScriptFinding): Check => ({
  step: 'static', check: 'static', verdict: f.severity === 'error' ? 'fail' : 'warn', expected: 'a runnable script', got: f.message,
  hint: f.severity === 'error' ? 'heartbeat cannot run it' : 'fix it before it bites',
});

/**
 * The file the daemon would run for `r`, by its lookup rule; a path with
 * "/" (a script still being written) is taken as it is.
 */
export function locate(r: Resource, paths: Paths): Located {
  if (r.script.includes('/')) {
    const reason = unrunnableReason(r.script);
    if (reason !== undefined) return { path: undefined, checks: [asCheck({ severity: 'error', code: 'RSC_NOT_RUNNABLE', message: reason })] };
    return { path: r.script, checks: runnableFileFindings(r.script).map(asCheck) };
  }
  const inspected = inspectScript(paths.resourceDirs, r.script, r.spec);
  return { path: locateScript(paths.resourceDirs, r.script), checks: inspected.findings.map(asCheck) };
}

export interface Environment {
  env: Record<string, string>;
  /** Set when heartbeat runs here and haresources lists this resource. */
  managedBy?: string;
}

/** The daemon's script environment and whether a running heartbeat manages `r` here. */
export function environment(r: Resource, paths: Paths): Environment {
  const nodename = nodeName(paths.haDir);
  const loaded = loadConfiguration({ haDir: paths.haDir, nodename, resourceDirs: paths.resourceDirs });
  const config = loaded.config ?? parseHaCf('', { file: '(none)', nodename }).value;
  const env = config === undefined ? {} : scriptEnvironment({ config, groups: [], paths, nodename, log: memoryLogger() });
  const hb = runState(paths.pidFile);
  const group = loaded.groups?.find((g) => g.resources.some((x) => x.script === r.script && x.args.join('::') === r.args.join('::')));
  const out: Environment = { env };
  if (hb.state === 'running' && group !== undefined) {
    out.managedBy = `heartbeat (pid ${hb.pid}) runs here and ${loaded.files.haresources}:${group.line} lists ${r.spec}`;
  }
  return out;
}

/** The run-time directories the daemon makes at start, made if missing (never emptied: heartbeat may be using them). */
export function ensureRunDirs(paths: Paths): void {
  const rsctmp = `${paths.runDir}/rsctmp`;
  try {
    if (!existsSync(rsctmp)) {
      mkdirSync(rsctmp, { recursive: true });
      chmodSync(rsctmp, 0o1777);
    }
  } catch {
    /* not root: the scripts that need it fail, and the checks say so */
  }
  const agents = process.env['HA_RSCTMP'] ?? '/run/resource-agents';
  try {
    if (!existsSync(agents)) mkdirSync(agents, { recursive: true, mode: 0o1755 });
  } catch {
    /* only OCF-based scripts need it, as for the daemon */
  }
}
