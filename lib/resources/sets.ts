/**
 * Resource sets of the v1 protocol (spec 4.3): a bitmask of local (groups
 * whose haresources owner is the node speaking) and foreign (all others).
 */
export const RSC = { NONE: 0, LOCAL: 1, FOREIGN: 2, ALL: 3 } as const;
export type RscSet = 0 | 1 | 2 | 3;
export const RSC_NAMES = ['none', 'local', 'foreign', 'all'] as const;
export type RscName = (typeof RSC_NAMES)[number];

export function rscName(set: number): RscName {
  return RSC_NAMES[set & 3] ?? 'none';
}

/** Parses a set name; undefined for anything else (`failback` is handled by callers). */
export function parseRsc(name: string | undefined): RscSet | undefined {
  const i = RSC_NAMES.indexOf((name ?? '') as RscName);
  return i < 0 ? undefined : (i as RscSet);
}

/** The same set seen from the other node: its local is our foreign. */
export function mirror(set: RscSet): RscSet {
  if (set === RSC.LOCAL) return RSC.FOREIGN;
  if (set === RSC.FOREIGN) return RSC.LOCAL;
  return set;
}

/** The set to give up when a peer announces it holds `held` (hb_takeover's rsc_hold): the mirror, all when unknown. */
export function mirrorOfHeld(held: string | undefined): RscSet {
  return held === 'local' ? RSC.FOREIGN : held === 'foreign' ? RSC.LOCAL : RSC.ALL;
}

/** The holdings the audits of spec 6.3 look at. */
export interface Holdings {
  iHold: RscSet;
  otherHolds: RscSet;
  /** Both sides stable and no shutdown under way: "no one owns" is then an error. */
  settled: boolean;
}

/** The audits of spec 6.3: the error lines heartbeat logs for these holdings. */
export function auditHoldings(h: Holdings): string[] {
  const out: string[] = [];
  if (h.iHold & RSC.LOCAL && h.otherHolds & RSC.FOREIGN) out.push('Both machines own our resources!');
  if (h.otherHolds & RSC.LOCAL && h.iHold & RSC.FOREIGN) out.push('Both machines own foreign resources!');
  if (h.settled) {
    if (!(h.iHold & RSC.LOCAL) && !(h.otherHolds & RSC.FOREIGN)) out.push('No one owns our local resources!');
    if (!(h.otherHolds & RSC.LOCAL) && !(h.iHold & RSC.FOREIGN)) out.push('No one owns foreign resources!');
  }
  return out;
}
