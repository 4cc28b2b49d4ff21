/** heartbeat's `md5` method: HMAC-MD5 (RFC 2104) keyed with the key string's bytes (spec 2.1). */
import { createHmac } from 'node:crypto';
import { MD5 } from './blockhash.js';
import { KeyedHmac } from './hmac.js';
import type { AuthMethod } from './method.js';

export const md5Method: AuthMethod = Object.freeze({
  name: 'md5' as const,
  needsKey: true,
  compute: (key: string, data: Buffer): string =>
    createHmac('md5', Buffer.from(key, 'latin1')).update(data).digest('hex'),
  keyed: (key: string) => new KeyedHmac(MD5, Buffer.from(key, 'latin1')),
});
