/**
 * Who is on the other end of an API connection, as the kernel knows it.
 *
 * Node exposes neither SO_PEERCRED nor SCM_CREDENTIALS, so the server finds
 * the peer without trusting anything the client says: the accepted socket's
 * inode (/proc/self/fd/<fd> -> `socket:[N]`), the kernel's record of its peer
 * (`ss -xnp` reads it through sock_diag: local inode, peer inode and the
 * processes holding each socket), then each holder's effective uid/gid and
 * supplementary groups from /proc/<pid>/status. Every process holding the
 * peer socket is returned: the caller authorises only when all of them pass,
 * so a privileged process that merely inherited the socket does not lend its
 * rights to the one that connected.
 */
import { execFile } from 'node:child_process';
import { readFile, readlink } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { describeError } from '../../lib/util/errors.js';

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
  groups: number[];
}

export type PeerResult = { ok: true; creds: PeerCred[] } | { ok: false; reason: string };

const SS_TIMEOUT_MS = 3000;
const SS_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

/** One unix socket line of `ss -xnpH`: its inode, its peer's inode, holder pids. */
export interface SsEntry {
  inode: number;
  peer: number;
  pids: number[];
}

/**
 * Parses `ss -xnpH` output. Addresses may be `*`, a path or an abstract
 * name, so the line is read from its numeric columns: `<local inode> <peer
 * address> <peer inode> [users:((...))]` at the end.
 */
export function parseSs(text: string): SsEntry[] {
  const out: SsEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /\s(\d+)\s+\S+\s+(\d+)\s*(users:\(.*\))?\s*$/.exec(line);
    if (!m?.[1] || !m[2]) continue;
    const pids = [...(m[3] ?? '').matchAll(/pid=(\d+)/g)].map((p) => Number(p[1]));
    out.push({ inode: Number(m[1]), peer: Number(m[2]), pids: [...new Set(pids)] });
  }
  return out;
}

/** Effective uid/gid and groups from the text of /proc/<pid>/status. */
export function parseProcStatus(pid: number, text: string): PeerCred | undefined {
  const field = (name: string): number[] | undefined => {
    const m = new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text);
    return m?.[1] === undefined ? undefined : m[1].trim().split(/\s+/).filter((s) => s !== '').map(Number);
  };
  const uids = field('Uid');
  const gids = field('Gid');
  const groups = field('Groups') ?? [];
  const uid = uids?.[1];
  const gid = gids?.[1];
  if (uid === undefined || gid === undefined || Number.isNaN(uid) || Number.isNaN(gid)) return undefined;
  return { pid, uid, gid, groups: groups.filter((g) => !Number.isNaN(g)) };
}

function runSs(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ss', ['-xnpH'], { timeout: SS_TIMEOUT_MS, env: { ...process.env, PATH: `${process.env['PATH'] ?? ''}:${SS_PATH}` }, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

/** The inode of a connected socket of ours. */
async function socketInode(sock: Socket): Promise<number | undefined> {
  // `_handle.fd` is not public API, but it is the only way to name the fd.
  const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return undefined;
  try {
    const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/self/fd/${fd}`));
    return m?.[1] === undefined ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** The credentials of every process holding the far end of `sock`. */
export async function peerCredentials(sock: Socket): Promise<PeerResult> {
  const inode = await socketInode(sock);
  if (inode === undefined) return { ok: false, reason: 'cannot find the inode of the accepted socket' };
  let entries: SsEntry[];
  try {
    entries = parseSs(await runSs());
  } catch (err) {
    return { ok: false, reason: `cannot run ss to find the peer: ${describeError(err)}` };
  }
  const ours = entries.find((e) => e.inode === inode);
  if (!ours || ours.peer === 0) return { ok: false, reason: `no peer known for socket inode ${inode}` };
  const pids = entries.find((e) => e.inode === ours.peer)?.pids ?? [];
  if (pids.length === 0) return { ok: false, reason: `no process holds peer socket inode ${ours.peer} (client gone, or in another namespace)` };
  const creds: PeerCred[] = [];
  for (const pid of pids) {
    try {
      const c = parseProcStatus(pid, await readFile(`/proc/${pid}/status`, 'latin1'));
      if (!c) return { ok: false, reason: `unreadable credentials in /proc/${pid}/status` };
      creds.push(c);
    } catch (err) {
      return { ok: false, reason: `cannot read /proc/${pid}/status: ${describeError(err)}` };
    }
  }
  return { ok: true, creds };
}
