/**
 * Static checks of a resource script file, shared by `heartbeat -t` (every
 * resource of haresources) and `hb_rsctest` (before it runs anything): what
 * is at each place the lookup rule visits (resource.d, then init.d), and
 * why an entry there cannot be run. The lookup itself stays the resource
 * layer's (locateScript); this only explains its answer.
 */
import { accessSync, closeSync, constants, lstatSync, openSync, readlinkSync, readSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { ConfigProblem } from './types.js';

export interface ScriptFinding {
  severity: ConfigProblem['severity'];
  code: string;
  message: string;
}

export interface ScriptFiles {
  /** The file the daemon would run, if any. */
  path: string | undefined;
  /** Why the places visited before (or instead of) `path` do not count, and what is wrong with `path`. */
  findings: ScriptFinding[];
}

/** The error for a resource whose script is nowhere: `spec` is the resource as written in haresources. */
export function noScriptMessage(name: string, spec: string, reasons: readonly string[]): string {
  const why = reasons.length > 0 ? `: ${reasons.join('; ')}` : '';
  return `Cannot locate resource script ${name} (resource [${spec}])${why}`;
}

/** What is at `path`, when it is not a runnable file; undefined when it is one. */
export function unrunnableReason(path: string): string | undefined {
  let link: Stats;
  try {
    link = lstatSync(path);
  } catch {
    return `${path} does not exist`;
  }
  let target: Stats = link;
  if (link.isSymbolicLink()) {
    try {
      target = statSync(path);
    } catch {
      let to = '?';
      try { to = readlinkSync(path); } catch { /* raced away */ }
      return `${path} is a broken symbolic link (to ${to})`;
    }
  }
  if (target.isDirectory()) return `${path} is a directory`;
  if (!target.isFile()) return `${path} is not a regular file`;
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return `${path} is not executable (mode ${(target.mode & 0o7777).toString(8).padStart(4, '0')}: chmod 755 it)`;
  }
  return undefined;
}

/** Checks of a file that can be run: things that break it at exec time or make it unsafe for root to run. */
export function runnableFileFindings(path: string): ScriptFinding[] {
  const out: ScriptFinding[] = [];
  let head = '';
  try {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(256);
      head = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('latin1');
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    out.push({ severity: 'error', code: 'RSC_UNREADABLE', message: `${path} cannot be read: ${(err as Error).message}` });
    return out;
  }
  const firstLine = head.split('\n')[0] ?? '';
  if (firstLine.startsWith('#!') && firstLine.endsWith('\r')) {
    out.push({ severity: 'warning', code: 'RSC_CRLF', message: `${path} has DOS (CR LF) line endings: its "#!" interpreter name ends in CR and exec fails (run dos2unix on it)` });
  } else if (!firstLine.startsWith('#!') && !head.startsWith('\x7fELF')) {
    out.push({ severity: 'warning', code: 'RSC_NO_INTERPRETER', message: `${path} has no "#!" line: it only runs because the caller falls back to /bin/sh (start it with #!/bin/sh)` });
  }
  try {
    const st = statSync(path);
    if ((st.mode & 0o022) !== 0 && st.uid === 0) {
      out.push({ severity: 'warning', code: 'RSC_WRITABLE', message: `${path} is writable by ${(st.mode & 0o002) !== 0 ? 'everyone' : 'its group'} and heartbeat runs it as root (chmod go-w it)` });
    } else if (st.uid !== 0 && st.uid !== process.getuid?.()) {
      out.push({ severity: 'warning', code: 'RSC_WRITABLE', message: `${path} belongs to uid ${st.uid} and heartbeat runs it as root (chown root it)` });
    }
  } catch {
    /* reported above as unreadable */
  }
  return out;
}

/**
 * Follows the lookup rule over `dirs` for `name` and says what it found:
 * the first runnable file, what stood in the way before it, and the
 * problems of the file itself. No runnable file at all is an error.
 */
export function inspectScript(dirs: readonly string[], name: string, spec: string = name): ScriptFiles {
  if (name === '' || name === '.' || name === '..' || name.includes('/')) {
    return { path: undefined, findings: [{ severity: 'error', code: 'RSC_BAD_NAME', message: `[${name}] is not a script name: resources name a file of the resource directories, without "/"` }] };
  }
  const skipped: string[] = [];
  for (const dir of dirs) {
    const path = join(dir, name);
    const reason = unrunnableReason(path);
    if (reason !== undefined) {
      skipped.push(reason);
      continue;
    }
    // A broken entry that shadows nothing is normal (most scripts live in only one
    // place); one that exists but cannot run is worth a word: the admin meant it.
    const shadowed = skipped.filter((s) => !s.endsWith('does not exist'));
    const findings: ScriptFinding[] = shadowed.map((s) => ({ severity: 'warning', code: 'RSC_SKIPPED', message: `${s}: ${path} runs instead` }));
    return { path, findings: [...findings, ...runnableFileFindings(path)] };
  }
  return { path: undefined, findings: [{ severity: 'error', code: 'HARES_NO_SCRIPT', message: noScriptMessage(name, spec, skipped) }] };
}
