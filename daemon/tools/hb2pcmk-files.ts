/**
 * hb2pcmk's contact with the machine: reading /etc/ha.d, finding scripts,
 * asking cluster-glue for STONITH parameter names, writing the output
 * directory, and `--check` with Pacemaker's and Corosync's own tools.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { StonithHostLine } from '../../lib/migrate/convert.js';
import type { ScriptPlace } from '../../lib/migrate/resources.js';

/** Every `stonith_host` line of ha.cf, for any host (the daemon's parser keeps only its own). */
export function stonithHostLines(hacfText: string): StonithHostLine[] {
  const out: StonithHostLine[] = [];
  hacfText.split('\n').forEach((raw, k) => {
    const words = raw.replace(/#.*/, '').trim().split(/\s+/);
    if (words[0]?.toLowerCase() !== 'stonith_host' || words.length < 3) return;
    out.push({ host: words[1] ?? '*', type: words[2] ?? '', params: words.slice(3), line: k + 1 });
  });
  return out;
}

export function scriptPlace(haDir: string, initDir = '/etc/init.d'): (script: string) => ScriptPlace {
  const isFile = (p: string): boolean => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  return (script) => {
    if (script.includes('/')) return undefined;
    if (isFile(join(haDir, 'resource.d', script))) return 'resource.d';
    if (isFile(join(initDir, script))) return 'init.d';
    return undefined;
  };
}

/** `stonith -t TYPE -n`: the plugin's parameter names, undefined without cluster-glue or for an unknown type. */
export function stonithParamNames(type: string): string[] | undefined {
  const r = spawnSync('stonith', ['-t', type, '-n'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0 || typeof r.stdout !== 'string') return undefined;
  const names = r.stdout.split(/\s+/).filter((w) => w !== '');
  return names.length > 0 ? names : undefined;
}

export interface OutputFiles {
  'corosync.conf': string;
  'cib.xml': string;
  'crm-commands.sh': string;
  'pcs-commands.sh': string;
  'README.txt': string;
}

/** Writes the output directory: the files, a fresh Corosync authkey (0400), the hbscript agent when used. */
export function writeOutput(dir: string, files: OutputFiles, withAgent: string | undefined): string[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const written: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const p = join(dir, name);
    writeFileSync(p, text, { mode: name.endsWith('.sh') ? 0o755 : 0o644 });
    chmodSync(p, name.endsWith('.sh') ? 0o755 : 0o644);
    written.push(p);
  }
  const key = join(dir, 'authkey');
  writeFileSync(key, randomBytes(256), { mode: 0o400 });
  chmodSync(key, 0o400);
  written.push(key);
  if (withAgent !== undefined && existsSync(withAgent)) {
    const p = join(dir, 'hbscript');
    copyFileSync(withAgent, p);
    chmodSync(p, 0o755);
    written.push(p);
  }
  return written;
}

export interface CheckResult {
  tool: string;
  ok: boolean | undefined;
  output: string;
}

const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;

/** crm_verify on the CIB and `corosync -t` on corosync.conf, where they are installed (undefined: not installed). */
export function checkOutput(dir: string): CheckResult[] {
  const results: CheckResult[] = [];
  const run = (tool: string, argv: string[]): void => {
    if (!have(argv[0] ?? '')) {
      results.push({ tool, ok: undefined, output: `${argv[0] ?? ''} is not installed` });
      return;
    }
    const r = spawnSync(argv[0] ?? '', argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
    results.push({ tool, ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() });
  };
  run('crm_verify', ['crm_verify', '--xml-file', join(dir, 'cib.xml')]);
  // corosync -t also opens the key: a copy of the file that names ours
  const conf = join(dir, '.corosync-check.conf');
  writeFileSync(conf, readFileSync(join(dir, 'corosync.conf'), 'utf8').replace('totem {\n', `totem {\n\tkeyfile: ${join(dir, 'authkey')}\n`));
  try {
    run('corosync -t', ['corosync', '-t', '-c', conf]);
  } finally {
    rmSync(conf, { force: true });
  }
  return results;
}

export const readText = (p: string): string | undefined => (existsSync(p) ? readFileSync(p, 'latin1') : undefined);
