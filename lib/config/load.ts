/**
 * Reads the configuration files from disk (the only I/O of lib/config) and
 * runs the checks that need the system: file modes, serial devices,
 * executables of respawn lines and resource scripts.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { describeError } from '../util/errors.js';
import { findScript } from '../util/files.js';
import { parseAuthKeys } from './authkeys.js';
import { parseHaCf } from './hacf.js';
import { parseHaResources } from './haresources.js';
import { checkHbtsAgainstGroups, checkHbtsAgainstNodes, EMPTY_HBTS_CONFIG, HBTS_CF_NAME, parseHbtsCf, type HbtsConfig } from './hbts-cf.js';
import { inspectScript } from './script-files.js';
import { hasErrors } from './problems.js';
import { asciiLower } from './text.js';
import type { AuthKeys, ConfigProblem, HaConfig, ResourceGroup } from './types.js';

export const DEFAULT_HA_DIR = '/etc/ha.d';
const NODEINFO_MAX = 255;

export interface LoadOptions {
  /** Default /etc/ha.d. */
  haDir?: string;
  /** Overrides nodeName(haDir). */
  nodename?: string;
  /** Where resource scripts are looked up; default [haDir/resource.d, /etc/init.d]. */
  resourceDirs?: string[];
  /** Default /etc/services. */
  servicesFile?: string;
  /** false = `heartbeat -M`: haresources is not read. Default true. */
  manageResources?: boolean;
  /**
   * Reading a configuration for another machine (hb2pcmk): nothing is checked
   * against this one (serial devices, respawn programs, resource scripts).
   */
  offline?: boolean;
}

export interface LoadResult {
  config?: HaConfig;
  keys?: AuthKeys;
  groups?: ResourceGroup[];
  /** heartbeat-ts.cf; EMPTY_HBTS_CONFIG (3.0.6 behaviour) when the file does not exist. */
  hbts: HbtsConfig;
  problems: ConfigProblem[];
  /** No error-severity problem. */
  ok: boolean;
  /** The (lowercased) node name the files were checked for. */
  nodename: string;
  files: { haCf: string; authkeys: string; haresources: string; hbtsCf: string };
}

/**
 * This host's node name: the first line of `<haDir>/nodeinfo` when the file
 * has one (heartbeat only takes it when it ends with a newline within 255
 * bytes), else the host name; lowercased (ASCII).
 */
export function nodeName(haDir: string = DEFAULT_HA_DIR): string {
  let text: string | undefined;
  try {
    text = readFileSync(join(haDir, 'nodeinfo'), 'latin1');
  } catch {
    text = undefined;
  }
  const nl = text === undefined ? -1 : text.indexOf('\n');
  if (text !== undefined && nl >= 0 && nl < NODEINFO_MAX) return asciiLower(text.slice(0, nl));
  return asciiLower(hostname());
}

/** udp services of an /etc/services file: every name and alias -> port, first entry wins (as getservbyname). */
export function readServices(path = '/etc/services'): Map<string, number> {
  const out = new Map<string, number>();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return out;
  }
  for (const raw of text.split('\n')) {
    const [name, portProto, ...aliases] = (raw.split('#')[0] ?? '').trim().split(/\s+/);
    const m = /^(\d+)\/udp$/.exec(portProto ?? '');
    if (name === undefined || name === '' || m?.[1] === undefined) continue;
    const port = Number(m[1]);
    for (const n of [name, ...aliases]) if (!out.has(n)) out.set(n, port);
  }
  return out;
}

/** A resource script exists when `<dir>/<name>` is a regular, executable file in one of `dirs` (spec 10.2). */
export function scriptExistsIn(dirs: readonly string[]): (name: string) => boolean {
  return (name) => findScript(dirs, name) !== undefined;
}

function readText(path: string): { text: string; mode: number } | { error: string } {
  try {
    const text = readFileSync(path, 'utf8');
    return { text, mode: statSync(path).mode };
  } catch (err) {
    return { error: describeError(err) };
  }
}

export function loadConfiguration(opts: LoadOptions = {}): LoadResult {
  const haDir = opts.haDir ?? DEFAULT_HA_DIR;
  const nodename = asciiLower(opts.nodename ?? nodeName(haDir));
  const files = {
    haCf: join(haDir, 'ha.cf'), authkeys: join(haDir, 'authkeys'), haresources: join(haDir, 'haresources'),
    hbtsCf: join(haDir, HBTS_CF_NAME),
  };
  const problems: ConfigProblem[] = [];
  const problem = (file: string, line: number, severity: ConfigProblem['severity'], code: string, message: string): void => {
    problems.push({ file, line, severity, code, message });
  };
  const result: LoadResult = { problems, ok: false, nodename, files, hbts: EMPTY_HBTS_CONFIG };

  const cf = readText(files.haCf);
  if ('text' in cf) {
    const parsed = parseHaCf(cf.text, {
      file: files.haCf, nodename, services: readServices(opts.servicesFile), manageResources: opts.manageResources ?? true,
    });
    problems.push(...parsed.problems);
    if (parsed.value !== undefined) {
      result.config = parsed.value;
      if (opts.offline !== true) checkSystem(parsed.value, files.haCf, problem);
    }
  } else {
    problem(files.haCf, 0, 'error', 'HACF_FILE_MISSING', `Cannot open config file [${files.haCf}]: ${cf.error}`);
  }

  const ak = readText(files.authkeys);
  if ('text' in ak) {
    const parsed = parseAuthKeys(ak.text, { file: files.authkeys, mode: ak.mode });
    problems.push(...parsed.problems);
    if (parsed.value !== undefined) result.keys = parsed.value;
  } else {
    problem(files.authkeys, 0, 'error', 'AUTH_FILE_MISSING', `Cannot open keyfile [${files.authkeys}].  Stop. (${ak.error})`);
  }

  const config = result.config;
  if (config !== undefined) {
    const v1 = (opts.manageResources ?? true) && !config.crm;
    const hr = readText(files.haresources);
    if (!v1) {
      if ('text' in hr && config.crm) {
        problem(files.haresources, 0, 'warning', 'HARES_UNUSED',
          `File ${files.haresources} exists. This file is not used because pacemaker is enabled`);
      }
    } else if ('text' in hr) {
      const dirs = opts.resourceDirs ?? [join(haDir, 'resource.d'), '/etc/init.d'];
      const inspect = opts.offline === true ? () => [] : (name: string, spec: string) => inspectScript(dirs, name, spec).findings;
      const parsed = parseHaResources(hr.text, { file: files.haresources, nodes: config.nodes, inspectScript: inspect });
      problems.push(...parsed.problems);
      if (parsed.value !== undefined) result.groups = parsed.value;
    } else {
      // heartbeat 3.0.6 refuses to start in v1 mode without the file (checked against the real binary).
      problem(files.haresources, 0, 'error', 'HARES_FILE_MISSING', `Cannot open resources file [${files.haresources}]: ${hr.error}`);
    }
  }
  loadHbts(result, files.hbtsCf);
  result.ok = !hasErrors(problems);
  return result;
}

/** heartbeat-ts.cf is optional: absent = 3.0.6 behaviour; present but unreadable = an error. */
function loadHbts(result: LoadResult, file: string): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    result.problems.push({ file, line: 0, severity: 'error', code: 'HBTS_FILE_UNREADABLE', message: `Cannot read ${file}: ${describeError(err)}` });
    return;
  }
  const parsed = parseHbtsCf(text, { file });
  result.problems.push(...parsed.problems);
  if (parsed.value === undefined) return;
  result.hbts = parsed.value;
  if (result.groups !== undefined) result.problems.push(...checkHbtsAgainstGroups(parsed.value, result.groups, file));
  if (result.config !== undefined) {
    result.problems.push(...checkHbtsAgainstNodes(parsed.value, result.config.nodes.length, result.config.autoFailback, file));
  }
}

type ProblemSink = (file: string, line: number, severity: ConfigProblem['severity'], code: string, message: string) => void;

/** The checks heartbeat's plugins and respawn parser make against the running system. */
function checkSystem(cfg: HaConfig, file: string, problem: ProblemSink): void {
  for (const m of cfg.media) {
    if (m.kind !== 'serial') continue;
    let isChar = false;
    try {
      isChar = statSync(m.device).isCharacterDevice();
    } catch {
      problem(file, m.line, 'error', 'HACF_BAD_MEDIA', `Nonexistent serial port [${m.device}] in config file`);
      continue;
    }
    if (!isChar) problem(file, m.line, 'error', 'HACF_BAD_MEDIA', `Serial port [${m.device}] not a char device in config file`);
  }
  for (const r of cfg.respawn) {
    try {
      accessSync(r.command, constants.X_OK);
    } catch {
      problem(file, r.line, 'error', 'HACF_BAD_VALUE', `Client child command [${r.command}] is not executable`);
    }
  }
}
