/**
 * Who is on the other end of a unix socket connection, as the kernel
 * recorded it when the client called connect() (SO_PEERCRED for pid, uid and
 * gid; SO_PEERGROUPS for the supplementary groups), read through our addon
 * native/hb_peercred.c. Every server of the daemon (the JSON tool socket and
 * Heartbeat's C API socket) calls `readPeerCred` on the accepted socket.
 *
 * Why connect time: whatever holds the client's socket *later* is not who
 * connected. A client can connect, queue requests and hand the descriptor to
 * a setuid-root program; reading the holder from /proc or sock_diag at that
 * point lends root's rights to the unprivileged user who connected. The
 * kernel's record never changes after connect().
 *
 * Supplementary groups come from the same connect-time record, never from
 * /proc/<pid>/status (the pid may be another process by then). Heartbeat
 * 3.0.6 compares only the effective gid; accepting a supplementary group
 * grants nothing a member could not get with `sg`/`newgrp`, and it is what
 * lets members of haclient use our cl_status, which (a script) cannot be
 * setgid as Debian's is. See README "Local users".
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeError } from '../../lib/util/errors.js';

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
  groups: number[];
}

/** `creds` holds one entry: the process that connected. */
export type PeerResult = { ok: true; creds: PeerCred[] } | { ok: false; reason: string };

interface PeerCredAddon {
  peerCred(fd: number): { pid: number; uid: number; gid: number; groups: number[] | null };
}

const ADDON = join('native', 'build', 'Release', 'hb_peercred.node');

/** The addon, searched upwards from this file (works from daemon/ and from dist/daemon/). */
function loadAddon(): PeerCredAddon | string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, ADDON);
    if (existsSync(candidate)) {
      try {
        return createRequire(import.meta.url)(candidate) as PeerCredAddon;
      } catch (err) {
        return `cannot load ${candidate}: ${describeError(err)}`;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return `the peer credentials addon is not built (no ${ADDON}); run \`npm ci\``;
    dir = parent;
  }
}

/** Loaded once, at import: the addon or why it cannot be used. */
const addon: PeerCredAddon | string = loadAddon();

/** Why peer credentials cannot be read on this installation (no addon), or undefined when they can. */
export function peerCredUnavailable(): string | undefined {
  return typeof addon === 'string' ? addon : undefined;
}

/** The descriptor behind a net.Socket (`_handle.fd` is not public API, but the only way to name it). */
export function socketFd(sock: Socket): number | undefined {
  const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** The connect-time credentials of the peer of an accepted unix socket. Synchronous: call it in the accept handler. */
export function readPeerCred(sock: Socket): PeerResult {
  if (typeof addon === 'string') return { ok: false, reason: addon };
  const fd = socketFd(sock);
  if (fd === undefined) return { ok: false, reason: 'the accepted socket has no descriptor (already closed)' };
  try {
    const c = addon.peerCred(fd);
    return { ok: true, creds: [{ pid: c.pid, uid: c.uid, gid: c.gid, groups: c.groups ?? [] }] };
  } catch (err) {
    return { ok: false, reason: describeError(err) };
  }
}
