/**
 * The argument of resource.d/IPaddr and IPaddr2 (`ip[/cidr[/dev[:label]][/broadcast]]`)
 * read exactly as resource.d/hb-ipaddr.sh reads it (hb_ipaddr_parse), with
 * the same error texts: the in-process path must accept, refuse and
 * default what the script does, or a resource would behave differently
 * depending on which path ran it.
 */

export type IpMode = 'IPaddr' | 'IPaddr2';

export interface IpSpec {
  ip: string;
  /** Prefix bits; undefined when not given (taken from the route). */
  bits: number | undefined;
  /** Interface; '' when not given. */
  dev: string;
  /** The part after `dev:`; '' when none. */
  label: string;
  /** Broadcast address; '' when not given. */
  brd: string;
}

/** A refused argument: the message hb_err logs; the script exits 2 (HB_ERR_ARGS). */
export interface IpSpecError {
  error: string;
}

/** hb_ip_valid: a dotted quad, each part 0..255 without leading zeros. */
export function ipValid(s: string): boolean {
  if (!/^(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}$/.test(s)) return false;
  return s.split('.').every((p) => Number(p) <= 255);
}

export function ipToInt(s: string): number {
  return s.split('.').reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => String((n >>> s) & 255)).join('.');
}

export function prefixMask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** hb_ip_in_net */
export function ipInNet(ip: string, net: string, bits: number): boolean {
  const m = prefixMask(bits);
  return ((ipToInt(ip) & m) >>> 0) === ((ipToInt(net) & m) >>> 0);
}

/** hb_cidr_bits: "24" (1-32, no leading zero) or a contiguous dotted mask (0-32 bits). */
export function cidrBits(x: string): number | undefined {
  if (x.includes('.')) {
    if (!ipValid(x)) return undefined;
    let m = ipToInt(x);
    let bits = 0;
    while ((m & 0x80000000) !== 0) {
      bits++;
      m = (m << 1) >>> 0;
    }
    return m === 0 ? bits : undefined;
  }
  if (!/^[1-9][0-9]*$/.test(x)) return undefined;
  const n = Number(x);
  return n >= 1 && n <= 32 ? n : undefined;
}

/** The shell's `${rest%%/*}` then `${rest#"$field"}` and `${rest#/}`. */
function nextField(rest: string): [string, string] {
  const slash = rest.indexOf('/');
  return slash < 0 ? [rest, ''] : [rest.slice(0, slash), rest.slice(slash + 1)];
}

/** HB_INSTANCE of the script's log tag: `<mode>_<spec up to the first slash>`. */
export function ipInstance(mode: IpMode, spec: string): string {
  return `${mode}_${nextField(spec)[0]}`;
}

const UNICAST_REFUSED = /^(0\.|22[4-9]\.|23[0-9]\.|2[4-5][0-9]\.)/;

/** hb_ipaddr_parse, step by step. */
export function parseIpSpec(spec: string): IpSpec | IpSpecError {
  let [ip, rest] = nextField(spec);
  const out: IpSpec = { ip, bits: undefined, dev: '', label: '', brd: '' };
  if (!ipValid(ip)) return { error: `'${ip}' is not an IPv4 address (expected ip[/cidr[/dev[/broadcast]]], e.g. 10.0.0.100/24/eth0)` };
  if (UNICAST_REFUSED.test(ip)) return { error: `${ip} is not a unicast host address` };
  let field: string;
  if (rest !== '') {
    [field, rest] = nextField(rest);
    if (field !== '') {
      out.bits = cidrBits(field);
      if (out.bits === undefined) return { error: `'${field}' in ${spec} is not a netmask (give prefix bits 1-32 or a dotted mask)` };
    }
  }
  if (rest !== '') {
    [field, rest] = nextField(rest);
    const colon = field.indexOf(':');
    if (/^[0-9]/.test(field)) out.brd = field;
    else if (colon >= 0) [out.dev, out.label] = [field.slice(0, colon), field.slice(colon + 1)];
    else out.dev = field;
  }
  if (rest !== '' && out.brd === '') [out.brd, rest] = nextField(rest);
  if (rest !== '') return { error: `too many fields in ${spec} (expected ip[/cidr[/dev[/broadcast]]])` };
  if (out.brd !== '' && !ipValid(out.brd)) return { error: `broadcast '${out.brd}' in ${spec} is not an IPv4 address` };
  if (/[^A-Za-z0-9_.@-]/.test(out.dev)) return { error: `'${out.dev}' in ${spec} is not an interface name` };
  return out;
}

/** IPaddr's default broadcast: the network's last address, for prefixes up to /30 (ifconfig's rule). */
export function defaultBroadcast(ip: string, bits: number): string {
  return bits <= 30 ? intToIp((ipToInt(ip) | ~prefixMask(bits)) >>> 0) : '';
}
