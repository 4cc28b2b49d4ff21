/**
 * Runs a helper program without blocking the event loop, with a deadline:
 * a hung `nft`, `ipvsadm` or check command must never stall the director.
 */
import { spawn } from 'node:child_process';

export interface RunResult {
  /** Exit code; null when killed (timeout or signal). */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Set when the program could not be started (ENOENT, EACCES). */
  spawnError?: string;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

const MAX_CAPTURE = 1 << 20;

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const finish = (r: RunResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    let child: ReturnType<typeof spawn>;
    try {
      // Own process group: a deadline ends the command and anything it started.
      child = spawn(cmd, [...args], { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, detached: true });
    } catch (e) {
      resolve({ code: null, stdout: '', stderr: '', timedOut: false, spawnError: (e as Error).message });
      return;
    }
    const signalGroup = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch { /* already gone */ }
    };
    const kill = (): void => {
      signalGroup('SIGTERM');
      // A child that ignores TERM must not outlive its deadline for long.
      setTimeout(() => signalGroup('SIGKILL'), 2000).unref();
    };
    const onAbort = (): void => { timedOut = true; kill(); };
    const timer = setTimeout(onAbort, opts.timeoutMs ?? 30_000);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout?.on('data', (d: Buffer) => { if (stdout.length < MAX_CAPTURE) stdout += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { if (stderr.length < MAX_CAPTURE) stderr += d.toString(); });
    child.on('error', (e) => finish({ code: null, stdout, stderr, timedOut, spawnError: e.message }));
    child.on('close', (code) => finish({ code, stdout, stderr, timedOut }));
    child.stdin?.on('error', () => { /* child exited before reading its input */ });
    child.stdin?.end(opts.input ?? '');
  });
}
