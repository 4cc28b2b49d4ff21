/** heartbeat's `md5` method: HMAC-MD5 (RFC 2104) keyed with the key string's bytes (spec 2.1). */
import { createHmac, createSecretKey } from 'node:crypto';
import type { AuthMethod } from './method.js';

export const md5Method: AuthMethod = Object.freeze({
  name: 'md5' as const,
  needsKey: true,
  compute: (key: string, data: Buffer): string =>
    createHmac('md5', Buffer.from(key, 'latin1')).update(data).digest('hex'),
  keyed: (key: string) => {
    // a key object made once: the per-message cost is the digest alone
    const k = createSecretKey(Buffer.from(key, 'latin1'));
    return (data: Buffer): string => createHmac('md5', k).update(data).digest('hex');
  },
});
