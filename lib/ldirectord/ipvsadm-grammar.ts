/**
 * The command-line grammar of ipvsadm(8) for the commands ldirectord uses
 * (-A -E -D -a -e -d, plus -C), as its manual page and `--help` define
 * them: one command, a virtual service (-t/-u/--sctp-service host:port or
 * -f mark), and the parameters valid for that command. Used to read
 * `ipvsadm -S -n` output and to check the lines this package generates,
 * since a kernel without IPVS makes ipvsadm fail before it parses anything.
 */
export type IpvsCommand = 'A' | 'E' | 'D' | 'a' | 'e' | 'd' | 'C';

export interface IpvsLine {
  command: IpvsCommand;
  service?: { kind: 'tcp' | 'udp' | 'sctp'; address: string; port: number } | { kind: 'fwm'; mark: number };
  scheduler?: string;
  /** Seconds; 300 when -p was given without a value. */
  persistent?: number;
  netmask?: string;
  ops?: boolean;
  real?: { address: string; port: number };
  forward?: 'gate' | 'ipip' | 'masq';
  weight?: number;
  uthreshold?: number;
  lthreshold?: number;
}

const COMMANDS: Record<string, IpvsCommand> = {
  '-A': 'A', '--add-service': 'A', '-E': 'E', '--edit-service': 'E', '-D': 'D', '--delete-service': 'D',
  '-a': 'a', '--add-server': 'a', '-e': 'e', '--edit-server': 'e', '-d': 'd', '--delete-server': 'd',
  '-C': 'C', '--clear': 'C',
};
export const IPVS_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'];

function octets(s: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

/** host[:port]; a missing port is 0 (valid for persistent or fwmark use). */
function hostPort(s: string): { address: string; port: number } | string {
  const m = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(s);
  if (!m || !octets(m[1] ?? '')) return `invalid IPv4 host[:port] "${s}"`;
  const port = m[2] === undefined ? 0 : Number(m[2]);
  if (port > 65535) return `port out of range in "${s}"`;
  return { address: m[1] ?? '', port };
}

const int = (s: string | undefined, lo: number, hi: number): number | undefined =>
  s !== undefined && /^\d+$/.test(s) && Number(s) >= lo && Number(s) <= hi ? Number(s) : undefined;

/** Where the option loop is: the tokens, the current index, and the next argument. */
interface Cursor {
  tok: string[];
  i: number;
  next(): string | undefined;
}

/** One option `t` (with its argument, taken from `c`) into `out`; an error message, or undefined. */
function parseOption(t: string, c: Cursor, out: Partial<IpvsLine>, once: (key: string) => string | undefined): string | undefined {
  let e: string | undefined;
  switch (t) {
    case '-t': case '--tcp-service': case '-u': case '--udp-service': case '--sctp-service': {
      if ((e = once('service'))) return e;
      const hp = hostPort(c.next() ?? '');
      if (typeof hp === 'string') return hp;
      out.service = { kind: t === '-t' || t === '--tcp-service' ? 'tcp' : t === '--sctp-service' ? 'sctp' : 'udp', ...hp };
      break;
    }
    case '-f': case '--fwmark-service': {
      if ((e = once('service'))) return e;
      const mark = int(c.next(), 1, 0xffffffff);
      if (mark === undefined) return 'firewall mark must be an integer greater than zero';
      out.service = { kind: 'fwm', mark };
      break;
    }
    case '-s': case '--scheduler': {
      if ((e = once('s'))) return e;
      const s = c.next() ?? '';
      if (!IPVS_SCHEDULERS.includes(s)) return `unknown scheduler "${s}"`;
      out.scheduler = s;
      break;
    }
    case '-p': case '--persistent': {
      if ((e = once('p'))) return e;
      const v = c.tok[c.i + 1];
      if (v !== undefined && /^\d+$/.test(v)) {
        c.i++;
        const n = int(v, 1, 0x7fffffff);
        if (n === undefined) return `invalid persistence timeout "${v}"`;
        out.persistent = n;
      } else {
        out.persistent = 300;
      }
      break;
    }
    case '-M': case '--netmask': {
      if ((e = once('M'))) return e;
      const m = c.next() ?? '';
      if (!octets(m)) return `invalid netmask "${m}"`;
      out.netmask = m;
      break;
    }
    case '-o': case '--ops': if ((e = once('o'))) return e; out.ops = true; break;
    case '-r': case '--real-server': {
      if ((e = once('r'))) return e;
      const hp = hostPort(c.next() ?? '');
      if (typeof hp === 'string') return hp;
      out.real = hp;
      break;
    }
    case '-g': case '--gatewaying': case '-i': case '--ipip': case '-m': case '--masquerading':
      if ((e = once('fwd'))) return 'more than one packet-forwarding method';
      out.forward = t === '-g' || t === '--gatewaying' ? 'gate' : t === '-i' || t === '--ipip' ? 'ipip' : 'masq';
      break;
    case '-w': case '--weight': {
      if ((e = once('w'))) return e;
      const w = int(c.next(), 0, 2147483647);
      if (w === undefined) return 'weight must be an integer 0..2147483647';
      out.weight = w;
      break;
    }
    case '-x': case '--u-threshold': case '-y': case '--l-threshold': {
      if ((e = once(t.startsWith('-x') || t === '--u-threshold' ? 'x' : 'y'))) return e;
      const n = int(c.next(), 0, 65535);
      if (n === undefined) return `${t} needs an integer 0..65535`;
      if (t === '-x' || t === '--u-threshold') out.uthreshold = n; else out.lthreshold = n;
      break;
    }
    default:
      return `unknown option "${t}"`;
  }
  return undefined;
}

/** Which options each command takes; the parsed line, or what is wrong with it. */
function checkCombination(command: IpvsCommand, out: Partial<IpvsLine>): IpvsLine | string {
  const svcOpts = out.scheduler !== undefined || out.persistent !== undefined || out.netmask !== undefined || out.ops !== undefined;
  const realOpts = out.real !== undefined || out.forward !== undefined || out.weight !== undefined ||
    out.uthreshold !== undefined || out.lthreshold !== undefined;
  if (command === 'C') {
    if (out.service || svcOpts || realOpts) return '-C takes no other option';
    return { command };
  }
  if (!out.service) return `-${command} needs a virtual service (-t, -u, --sctp-service or -f)`;
  if (command === 'A' || command === 'E' || command === 'D') {
    if (realOpts) return `-${command} does not take real-server options`;
    if (command === 'D' && svcOpts) return '-D takes only the virtual service';
  } else {
    if (svcOpts) return `-${command} does not take scheduling or persistence options`;
    if (!out.real) return `-${command} needs a real server (-r)`;
    if (command === 'd' && (out.forward !== undefined || out.weight !== undefined)) return '-d takes only the virtual service and -r';
  }
  if (out.ops && out.service.kind !== 'udp' && out.service.kind !== 'fwm') return '-o (one-packet scheduling) needs a UDP or fwmark service';
  return { ...out, command } as IpvsLine;
}

/**
 * Parses one line of ipvsadm arguments (optionally starting with
 * "ipvsadm"); returns the parsed line or an error message.
 */
export function parseIpvsadmLine(line: string): IpvsLine | string {
  const tok = line.trim().split(/\s+/).filter(Boolean);
  if (tok[0] === 'ipvsadm') tok.shift();
  let command: IpvsCommand | undefined;
  const out: Partial<IpvsLine> = {};
  const seen = new Set<string>();
  const c: Cursor = { tok, i: 0, next: () => tok[++c.i] };
  for (; c.i < tok.length; c.i++) {
    const t = tok[c.i] ?? '';
    const cmd = COMMANDS[t];
    if (cmd) {
      if (command) return `more than one command (${command} and ${cmd})`;
      command = cmd;
      continue;
    }
    const e = parseOption(t, c, out, (key) => {
      if (seen.has(key)) return `option ${t} given twice`;
      seen.add(key);
      return undefined;
    });
    if (e !== undefined) return e;
  }
  if (!command) return 'no command (-A -E -D -a -e -d -C)';
  return checkCombination(command, out);
}
