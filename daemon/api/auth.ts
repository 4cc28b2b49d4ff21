/**
 * `apiauth` decisions (spec 8.2, heartbeat's api_check_client_authorization):
 * a named client is checked against the line for its name, else `default`;
 * a casual client against `anon`. A line lists users and/or groups; a peer
 * passes when its effective uid is listed or its effective gid or one of its
 * supplementary groups is. (heartbeat looks only at the effective gid because
 * its cl_status is setgid haclient; our tools are scripts and cannot be, so a
 * member of the group is accepted instead.) All of these ids are the kernel's
 * record of the connect() call (./peercred.ts), never looked up later.
 */
import { readFileSync } from 'node:fs';
import type { ApiAuthLine } from '../../lib/config/types.js';
import type { PeerCred } from './peercred.js';

export interface IdTables {
  users: Map<string, number>;
  groups: Map<string, number>;
}

/** name -> id from passwd(5) / group(5) text (third field). */
export function parseIdFile(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    if (name === undefined || name === '' || id === undefined || !/^\d+$/.test(id)) continue;
    if (!out.has(name)) out.set(name, Number(id));
  }
  return out;
}

export function readIdTables(etc = '/etc'): IdTables {
  const read = (f: string): string => {
    try {
      return readFileSync(`${etc}/${f}`, 'utf8');
    } catch {
      return '';
    }
  };
  return { users: parseIdFile(read('passwd')), groups: parseIdFile(read('group')) };
}

/** Numeric ids of a list of names or numbers; unknown names are left out. */
function resolve(list: readonly string[], table: Map<string, number>): Set<number> {
  const out = new Set<number>();
  for (const item of list) {
    if (/^\d+$/.test(item)) out.add(Number(item));
    else {
      const id = table.get(item);
      if (id !== undefined) out.add(id);
    }
  }
  return out;
}

export type AuthDecision = { ok: true; line: ApiAuthLine } | { ok: false; reason: string };

/** The apiauth line that governs a client (`anon` for casual clients, else its name, else `default`). */
export function authLineFor(apiauth: readonly ApiAuthLine[], clientName: string | undefined): ApiAuthLine | undefined {
  if (clientName === undefined) return apiauth.find((a) => a.client === 'anon');
  return apiauth.find((a) => a.client === clientName) ?? apiauth.find((a) => a.client === 'default');
}

/** Decides whether every process on the far end may sign on as `clientName` (undefined = casual). */
export function authorize(apiauth: readonly ApiAuthLine[], clientName: string | undefined, creds: readonly PeerCred[], ids: IdTables): AuthDecision {
  const line = authLineFor(apiauth, clientName);
  if (!line) return { ok: false, reason: clientName === undefined ? 'apiauth anon missing' : 'no default client auth' };
  if (creds.length === 0) return { ok: false, reason: 'client failed authorization' };
  const uids = resolve(line.uids, ids.users);
  const gids = resolve(line.gids, ids.groups);
  const passes = (c: PeerCred): boolean => uids.has(c.uid) || gids.has(c.gid) || c.groups.some((g) => gids.has(g));
  return creds.every(passes) ? { ok: true, line } : { ok: false, reason: 'client failed authorization' };
}
