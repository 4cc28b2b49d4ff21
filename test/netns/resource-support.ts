/**
 * Helpers for the resource.d script tests: run a script the way
 * ResourceManager does (`script [args…] op`, arguments from `::`), and
 * judge its status output with heartbeat's rule (spec 10.2), which
 * lib/resources implements as statusSaysRunning.
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { ExecResult, Lab, NodeId } from './harness/lab.js';

export { statusSaysRunning } from '../../lib/resources/script-runner.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const RSC_DIR = join(ROOT, 'resource.d');
export const HTTPD_INIT = join(ROOT, 'test/netns/fixtures/httpd-init.sh');
export const DEBIAN_RSC_DIR = '/etc/ha.d/resource.d';

export type Op = 'start' | 'stop' | 'status' | string;

/** Splits a haresources resource (`IPaddr::10.0.0.1/24/eth0`) into script and arguments. */
export function splitResource(resource: string): { script: string; args: string[] } {
  const [script = '', ...args] = resource.split('::');
  return { script, args };
}

/** Runs one of our resource.d scripts in a lab node. */
export function rscIn(lab: Lab, node: NodeId, resource: string, op: Op, env: Record<string, string> = {}, dir = RSC_DIR): Promise<ExecResult> {
  const { script, args } = splitResource(resource);
  return lab.exec(node, [join(dir, script), ...args, op], { env, timeoutMs: 90_000 });
}

/** Runs a script on the host (no network involved), with a clean environment plus env. */
export function rscHost(path: string, args: readonly string[], env: Record<string, string>, timeoutMs = 90_000): Promise<ExecResult> {
  return new Promise((done) => {
    execFile(path, [...args], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...env }, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      const code = e === null ? 0 : typeof e.code === 'number' ? e.code : 255;
      done({ code, stdout, stderr });
    });
  });
}

/** The `ip -4 -o addr show` line of addr on dev in a node, or undefined. */
export async function addrLine(lab: Lab, node: NodeId, addr: string, dev = 'eth0'): Promise<string | undefined> {
  const r = await lab.exec(node, ['ip', '-4', '-o', 'addr', 'show', 'dev', dev]);
  return r.stdout.split('\n').find((l) => l.includes(` inet ${addr}/`));
}

/** The label an address carries (last word before the `\`), or undefined. */
export function labelOf(line: string | undefined): string | undefined {
  return line?.match(/ (\S+)\\/)?.[1];
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
