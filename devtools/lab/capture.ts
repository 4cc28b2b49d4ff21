/**
 * Packet capture with tcpdump inside the switch namespace: on the bridge it
 * sees every frame any port received (also frames that a cut, partition or
 * loss then drops); on port `p<i>` what node i sent and received. One
 * background capture per lab, recorded in the state dir so `down` (also
 * another process's) stops it.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isRunning, processStartTime, sleep } from './proc.js';
import { BRIDGE, CLEAN_PATH, portOf, type NodeId, stateDirOf, switchNs } from './state.js';
import { CAPTURE_FILE, captureProcess, stopCaptureSync } from './teardown.js';

export interface CaptureOptions {
  /** stop by itself after this many seconds (default 300) */
  seconds?: number;
  /** tcpdump filter words, e.g. ['udp', 'port', '694'] */
  filter?: readonly string[];
  /** capture on node id's switch port instead of the bridge */
  port?: NodeId;
}

/** argv of the capture: tcpdump bounded by timeout (SIGINT: tcpdump flushes and exits). */
export function captureArgv(name: string, file: string, o: CaptureOptions): string[] {
  const seconds = o.seconds ?? 300;
  if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`capture: seconds must be a positive integer, got ${seconds}`);
  const iface = o.port === undefined ? BRIDGE : portOf(o.port);
  // --immediate-mode: without it the last second of traffic is lost when the capture is stopped
  return [
    'nsenter', `--net=/run/netns/${switchNs(name)}`, '--',
    'timeout', '-s', 'INT', String(seconds), 'tcpdump', '-i', iface, '--immediate-mode', '-U', '-n', '-s', '0', '-w', resolve(file),
    ...(o.filter ?? []),
  ];
}

/** Starts the lab's background capture into `file`; resolves once tcpdump listens. */
export async function captureStart(name: string, file: string, o: CaptureOptions = {}): Promise<void> {
  if (captureProcess(name) !== undefined) throw new Error(`lab ${name}: a capture is already running (stop it first)`);
  const argv = captureArgv(name, file, o);
  const logFile = join(stateDirOf(name), 'capture.log');
  const log = openSync(logFile, 'w');
  const child = spawn(argv[0] ?? 'nsenter', argv.slice(1), { stdio: ['ignore', log, log], env: { PATH: CLEAN_PATH }, detached: true });
  closeSync(log);
  child.unref();
  child.on('error', () => undefined);
  const pid = child.pid;
  if (pid === undefined) throw new Error('capture: cannot run nsenter/tcpdump');
  writeFileSync(join(stateDirOf(name), CAPTURE_FILE), JSON.stringify({ pid, start: processStartTime(pid) ?? '', file: resolve(file) }));
  const end = Date.now() + 15_000;
  for (;;) {
    const text = readFileSync(logFile, 'utf8');
    if (/listening on/i.test(text)) return;
    if (!isRunning(pid) || Date.now() > end) {
      stopCaptureSync(name);
      throw new Error(`capture did not start: ${text.trim() || '(no output)'}`);
    }
    await sleep(20);
  }
}

/** Stops the background capture (the file is complete afterwards); returns tcpdump's summary. */
export function captureStop(name: string): string {
  stopCaptureSync(name);
  try {
    return readFileSync(join(stateDirOf(name), 'capture.log'), 'utf8');
  } catch {
    return '';
  }
}
