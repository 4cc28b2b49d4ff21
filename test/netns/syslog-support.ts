/**
 * A syslog socket a test listens on (issue 12): the lab node gets a private
 * copy of /dev (the host may have no /dev/log, and /dev is shared), and a
 * python3 listener on the host binds a datagram socket at the node's
 * /dev/log, writing every datagram it receives as one hex line. Real 3.0.6
 * and heartbeat-ts log through the same path, so both are heard the same way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './harness/heartbeat.js';
import type { Lab } from './harness/lab.js';

const LISTENER = `
import socket, sys, os
path, out = sys.argv[1], sys.argv[2]
try: os.unlink(path)
except FileNotFoundError: pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path); os.chmod(path, 0o666)
s.settimeout(1)
parent = os.getppid()
f = open(out, 'a', buffering=1)
f.write('ready\\n')
while os.getppid() == parent:
    try: f.write(s.recv(65536).hex() + '\\n')
    except socket.timeout: pass
`;

export interface SyslogListener {
  /** Datagrams received so far, raw. */
  datagrams(): Buffer[];
  stop(): Promise<void>;
}

export async function listenSyslog(lab: Lab, i: number): Promise<SyslogListener> {
  const sock = lab.path(i, '/dev/log');
  const out = join(lab.stateDir, `syslog-${i}.hex`);
  rmSync(out, { force: true });
  const child: ChildProcess = spawn('/usr/bin/python3', ['-c', LISTENER, sock, out], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitFor(() => (existsSync(out) ? readFileSync(out, 'utf8') : ''), { timeoutMs: 20_000, what: `syslog listener of node ${i}`, until: (s) => s.startsWith('ready') });
  return {
    datagrams: () =>
      readFileSync(out, 'utf8').split('\n').slice(1).filter((l) => l !== '').map((l) => Buffer.from(l, 'hex')),
    stop: async () => {
      if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
      await exited;
      rmSync(sock, { force: true });
    },
  };
}

export interface SyslogLine {
  priority: number;
  facility: number;
  severity: number;
  /** `Dec  3 07:00:00` */
  stamp: string;
  ident: string;
  /** everything after `ident: ` (trailing NUL removed) */
  body: string;
  /** the datagram ended with a NUL byte */
  nul: boolean;
  raw: Buffer;
}

const LAYOUT = /^<(\d+)>([A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d) ([^:\s]+): ([\s\S]*)$/;

/** Parses one datagram in syslog(3)'s local layout; undefined when it is not in it. */
export function parseSyslog(raw: Buffer): SyslogLine | undefined {
  const nul = raw.length > 0 && raw[raw.length - 1] === 0;
  const text = raw.subarray(0, nul ? raw.length - 1 : raw.length).toString('utf8');
  const m = LAYOUT.exec(text);
  if (m === null) return undefined;
  const priority = Number(m[1]);
  return { priority, facility: priority >> 3, severity: priority & 7, stamp: m[2] ?? '', ident: m[3] ?? '', body: m[4] ?? '', nul, raw };
}
