/** heartbeat's `sha1` method: HMAC-SHA1 (RFC 2104) keyed with the key string's bytes (spec 2.1). */
import { createHmac } from 'node:crypto';
import { SHA1 } from './blockhash.js';
import { KeyedHmac } from './hmac.js';
import type { AuthMethod } from './method.js';

export const sha1Method: AuthMethod = Object.freeze({
  name: 'sha1' as const,
  needsKey: true,
  compute: (key: string, data: Buffer): string =>
    createHmac('sha1', Buffer.from(key, 'latin1')).update(data).digest('hex'),
  keyed: (key: string) => new KeyedHmac(SHA1, Buffer.from(key, 'latin1')),
});
