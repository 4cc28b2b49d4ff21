/**
 * Domain errors carry a stable machine-readable code next to a human message.
 * Codes never change once published: scripts and tests match on them. Each
 * layer declares its codes once, below (media keeps its table in lib/media);
 * call sites use the table, never a literal.
 */
export const WIRE_ERRORS = { UNENCODABLE: 'WIRE_UNENCODABLE' } as const;
export const AUTH_ERRORS = { BAD_KEYS: 'AUTH_BAD_KEYS', UNKNOWN_METHOD: 'AUTH_UNKNOWN_METHOD' } as const;
export const STATE_ERRORS = { GENERATION_WRITE: 'STATE_GENERATION_WRITE' } as const;
/** A node that cannot start its media (the medium's own code is kept when it has one). */
export const NODE_ERRORS = { MEDIA_OPEN: 'MEDIA_OPEN' } as const;
export const LDIRECTORD_ERRORS = { IPVSADM_FAILED: 'LD_IPVSADM_FAILED', NFT_FAILED: 'LD_NFT_FAILED' } as const;
/** The in-process IPaddr path: a kernel call refused (the script then runs instead). */
export const RESOURCE_ERRORS = { IPADDR_KERNEL: 'RSC_IPADDR_KERNEL' } as const;

type Values<T> = T[keyof T];
export type ErrorCode = Values<typeof WIRE_ERRORS> | Values<typeof AUTH_ERRORS> | Values<typeof STATE_ERRORS>
  | Values<typeof NODE_ERRORS> | Values<typeof LDIRECTORD_ERRORS> | Values<typeof RESOURCE_ERRORS>;

export class HbError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HbError';
    this.code = code;
  }
}

/** Returns a message for any thrown value without assuming it is an Error. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
