/** heartbeat's `sha1` method: HMAC-SHA1 (RFC 2104) keyed with the key string's bytes (spec 2.1). */
import { createHmac, createSecretKey } from 'node:crypto';
import type { AuthMethod } from './method.js';

export const sha1Method: AuthMethod = Object.freeze({
  name: 'sha1' as const,
  needsKey: true,
  compute: (key: string, data: Buffer): string =>
    createHmac('sha1', Buffer.from(key, 'latin1')).update(data).digest('hex'),
  keyed: (key: string) => {
    // a key object made once: the per-message cost is the digest alone
    const k = createSecretKey(Buffer.from(key, 'latin1'));
    return (data: Buffer): string => createHmac('sha1', k).update(data).digest('hex');
  },
});
