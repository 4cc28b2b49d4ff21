/**
 * authkeys parser (spec 9), following heartbeat's parse_authfile line by
 * line. Key material never appears in a problem message: lines that may
 * hold a key are referred to by line number only.
 */
import type { AuthKey, AuthKeys, ConfigProblem, ParseResult } from './types.js';

export interface AuthKeysOptions {
  file: string;
  /** st_mode of the file (permission bits are what matters). */
  mode: number;
}

/** heartbeat's MAXAUTH: key numbers are 0..15. */
const MAX_AUTH = 16;
const METHODS: ReadonlySet<string> = new Set(['crc', 'md5', 'sha1']);

/**
 * Parses authkeys. The value is undefined whenever there is an error, as
 * heartbeat then refuses the whole file (and keeps old keys on a reload).
 */
export function parseAuthKeys(text: string, opts: AuthKeysOptions): ParseResult<AuthKeys> {
  const problems: ConfigProblem[] = [];
  const err = (line: number, code: string, message: string): void => {
    problems.push({ file: opts.file, line, severity: 'error', code, message });
  };
  if ((opts.mode & 0o044) !== 0) {
    err(0, 'AUTH_BAD_PERMISSIONS',
      `Bad permissions on keyfile [${opts.file}], 600 recommended. (mode is ${(opts.mode & 0o777).toString(8).padStart(3, '0')}; `
      + 'the file must not be readable by group or others)');
    return { value: undefined, problems };
  }
  const keys = new Map<number, AuthKey>();
  let authNum = -1;
  let activeNum: number | undefined;

  text.split('\n').forEach((physical, i) => {
    const lineNo = i + 1;
    const bp = physical.replace(/^[ \t\n\r\f]+/, '');
    if (bp === '' || bp.startsWith('#')) return;
    if (bp.startsWith('a')) {
      // sscanf("auth %d"): "auth", optional blanks, an integer; anything after it is ignored.
      const m = /^auth[ \t\n\r\f\v]*([+-]?\d+)/.exec(bp);
      if (m?.[1] === undefined) {
        err(lineNo, 'AUTH_BAD_AUTH_LINE',
          `Invalid auth line in ${opts.file}: lines starting with "a" must be "auth <n>" (line not shown: it may hold a key)`);
        return;
      }
      authNum = clampInt(m[1]);
      return;
    }
    // sscanf("%d%s%s"): a number, a method word, an optional key word.
    const m = /^([+-]?\d+)(?!\d)[ \t\n\r\f\v]*([^ \t\n\r\f\v]+)(?:[ \t\n\r\f\v]+([^ \t\n\r\f\v]+))?/.exec(bp);
    const numText = m?.[1];
    const method = m?.[2];
    if (numText === undefined || method === undefined) {
      err(lineNo, 'AUTH_BAD_LINE',
        'Auth line is invalid: expected "auth <n>" or "<n> <method> [<key>]" (line not shown: it may hold a key)');
      return;
    }
    const num = clampInt(numText);
    const key = m?.[3] ?? '';
    if (num < 0 || num >= MAX_AUTH) {
      err(lineNo, 'AUTH_BAD_NUM', `Invalid authnum [${num}] in ${opts.file}: key numbers are 0-${MAX_AUTH - 1}`);
      return;
    }
    if (!METHODS.has(method)) {
      err(lineNo, 'AUTH_BAD_TYPE', `Invalid authtype [${method}]: the method must be crc, md5 or sha1`);
      return;
    }
    if (method === 'crc' && key !== '') {
      err(lineNo, 'AUTH_KEY_NOT_USED', "Auth method [crc] doesn't use a key: remove the key or use md5/sha1");
      return;
    }
    if (method !== 'crc' && key === '') {
      err(lineNo, 'AUTH_KEY_REQUIRED', `Auth method [${method}] requires a key`);
      return;
    }
    keys.set(num, { num, method: method as AuthKey['method'], key, line: lineNo });
    // The outbound key is bound only by a key line read after its `auth` line.
    if (num === authNum) activeNum = num;
  });

  if (activeNum === undefined) {
    if (authNum < 0) {
      err(0, 'AUTH_MISSING_AUTH', `Missing auth directive in keyfile [${opts.file}]: add a line "auth <n>" before the key lines`);
    } else {
      err(0, 'AUTH_KEY_NOT_FOUND',
        `Auth Key [${authNum}] not found in keyfile [${opts.file}]: a line "${authNum} <method> [<key>]" must follow "auth ${authNum}"`);
    }
  }
  if (problems.length > 0 || activeNum === undefined) return { value: undefined, problems };
  return { value: { activeNum, keys }, problems: crcWarnings(keys, opts.file) };
}

/**
 * Receivers accept a packet signed with any listed key, so one crc line
 * anywhere lets every host that reaches the port forge messages; the
 * daemon says so in its log at start, and `heartbeat -t` says it here.
 */
function crcWarnings(keys: ReadonlyMap<number, AuthKey>, file: string): ConfigProblem[] {
  return [...keys.values()].filter((k) => k.method === 'crc').map((k) => ({
    file, line: k.line, severity: 'warning' as const, code: 'AUTH_CRC_FORGEABLE',
    message: `Auth method [crc] (key ${k.num}) detects corruption only: anyone who can send to the cluster's port can forge `
      + 'messages (take resources, fake a shutdown). Use sha1 with a secret key.',
  }));
}

function clampInt(text: string): number {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : n < 0 ? -1 : MAX_AUTH;
}
