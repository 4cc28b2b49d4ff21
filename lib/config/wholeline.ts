/**
 * Whole-line ha.cf directives (respawn, failfast, apiauth, stonith,
 * stonith_host): they receive the rest of the line unsplit, because their
 * values contain commas and spaces of their own.
 */
import { asciiLower, tokens, WHITESPACE } from './text.js';
import { report, unimplemented, type ParseContext } from './state.js';
import type { ApiAuthLine, RespawnLine } from './types.js';

/** Longest user name heartbeat accepts for a client child (its chuid buffer). */
const MAX_USER = 63;
/** Longest API client name (client_id buffer of the API). */
const MAX_CLIENT = 63;

/** Default API permissions heartbeat adds unless ha.cf overrides them (parse_config). */
const DEFAULT_APIAUTH: readonly (readonly [string, string[], string[]])[] = [
  ['ipfail', ['hacluster'], []],
  ['ccm', ['hacluster'], []],
  ['ping', [], ['haclient']],
  ['lha-snmpagent', ['root'], []],
  ['anon', ['root'], ['haclient']],
];

/** Parses `<user> <absolute path> [args]`; undefined (with a problem) when invalid. */
function parseClientChild(directive: string, rest: string, ctx: ParseContext): RespawnLine | undefined {
  const trimmed = rest.replace(/^[ \t\n\r\f]+/, '').trimEnd();
  const user = tokens(trimmed, WHITESPACE)[0];
  if (user === undefined) {
    report(ctx, 'error', 'HACF_BAD_VALUE', `${directive} needs a user and a command: ${directive} <user> <absolute path> [args]`);
    return undefined;
  }
  if (user.length > MAX_USER) {
    report(ctx, 'error', 'HACF_BAD_VALUE', `UID specified for client child is too long: ${directive} user names are at most ${MAX_USER} characters`);
    return undefined;
  }
  const commandLine = trimmed.slice(user.length).replace(/^[ \t\n\r\f]+/, '');
  if (!commandLine.startsWith('/')) {
    report(ctx, 'error', 'HACF_BAD_VALUE',
      `Client child command [${commandLine}] is not full pathname: ${directive} needs an absolute program path after the user`);
    return undefined;
  }
  const [command = commandLine, ...args] = tokens(commandLine, WHITESPACE);
  return { user, command, args, commandLine, line: ctx.line };
}

/** `respawn <user> <path> [args]`: a client child restarted whenever it exits (except with 100). */
export function respawn(rest: string, ctx: ParseContext): boolean {
  const child = parseClientChild('respawn', rest, ctx);
  if (child === undefined) return false;
  ctx.cfg.respawn.push(child);
  return true;
}

/** `failfast <user> <path> [args]`: like respawn, but heartbeat reboots the node when it dies. */
export function failfast(rest: string, ctx: ParseContext): boolean {
  const child = parseClientChild('failfast', rest, ctx);
  if (child === undefined) return false;
  unimplemented(ctx, 'failfast', child.commandLine ? `${child.user} ${child.commandLine}` : child.user,
    'the program will not be started and no reboot will happen if it dies');
  return true;
}

/** `apiauth <client> [uid=a,b] [gid=c,d]`: who may register as an API client of that name. */
export function apiauth(rest: string, ctx: ParseContext): boolean {
  const written = rest.trimEnd();
  const fail = (why: string): false => {
    report(ctx, 'error', 'HACF_BAD_VALUE',
      `Invalid apiauth directive [${written}]: ${why}; syntax: apiauth <client> [uid=uid1,uid2] [gid=gid1,gid2], at least one of uid= and gid=`);
    return false;
  };
  const [client, ...specs] = tokens(written, WHITESPACE);
  if (client === undefined) return fail('no client name');
  if (client.length > MAX_CLIENT) return fail(`client name [${client}] too long`);
  let uids: string[] | undefined;
  let gids: string[] | undefined;
  for (const spec of specs) {
    const list = spec.slice(4).split(',').filter((s) => s !== '');
    if (spec.startsWith('uid=')) {
      if (uids !== undefined) return fail('Duplicate uid list in apiauth');
      uids = list;
    } else if (spec.startsWith('gid=')) {
      if (gids !== undefined) return fail('Duplicate gid list in apiauth');
      gids = list;
    } else {
      return fail(`Missing uid or gid in apiauth (found [${spec}])`);
    }
  }
  if (uids === undefined && gids === undefined) return fail('neither uid= nor gid= given');
  if (ctx.apiClients.has(client)) {
    return fail(`Duplicate apiauth directive for API client ${client}`);
  }
  ctx.apiClients.add(client);
  ctx.cfg.apiauth.push({ client, uids: uids ?? [], gids: gids ?? [], line: ctx.line });
  return true;
}

/** Adds heartbeat's built-in API permissions for well-known clients not configured by the user. */
export function addDefaultApiAuth(ctx: ParseContext): void {
  for (const [client, uids, gids] of DEFAULT_APIAUTH) {
    if (ctx.apiClients.has(client)) continue;
    ctx.apiClients.add(client);
    const entry: ApiAuthLine = { client, uids: [...uids], gids: [...gids], line: 0 };
    ctx.cfg.apiauth.push(entry);
  }
}

/** `stonith <type> <config file>`. */
export function stonith(rest: string, ctx: ParseContext): boolean {
  const [type] = tokens(rest, WHITESPACE);
  if (type === undefined) {
    report(ctx, 'error', 'HACF_BAD_VALUE', 'No Stonith type given: use stonith <type> <config file>');
    return false;
  }
  const configFile = rest.trim().slice(type.length).trim();
  ctx.cfg.stonith.push({ type, ...(configFile !== '' ? { configFile } : {}), line: ctx.line });
  return true;
}

/** `stonith_host <host|*> <type> <params…>`; heartbeat only uses lines for this host or `*`. */
export function stonithHost(rest: string, ctx: ParseContext): boolean {
  const [host, type] = tokens(rest, WHITESPACE);
  if (host === undefined) {
    report(ctx, 'error', 'HACF_BAD_VALUE', 'No Stonith hostname argument given: use stonith_host <host|*> <type> <params…>');
    return false;
  }
  const forUs = host === '*' || asciiLower(host) === ctx.nodename;
  // Heartbeat does not look any further at lines meant for other hosts.
  if (forUs && type === undefined) {
    report(ctx, 'error', 'HACF_BAD_VALUE', 'No Stonith type given: use stonith_host <host|*> <type> <params…>');
    return false;
  }
  if (forUs && type !== undefined) {
    const params = rest.trim().slice(host.length).trim().slice(type.length).trim();
    ctx.cfg.stonith.push({ type, ...(params !== '' ? { params } : {}), line: ctx.line });
  }
  return true;
}
