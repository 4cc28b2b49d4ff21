/**
 * Cross-check with the real C codec: Debian's libplumb.so.2 (cluster-glue
 * 1.0.12, what heartbeat 3.0.6 links) parses what we encode and writes it back
 * in both formats; its output must equal ours byte for byte.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { encodeClassic } from '../../../lib/wire/classic.js';
import { decodeDatagram } from '../../../lib/wire/codec.js';
import { encodeNetstring } from '../../../lib/wire/netstring.js';
import { Rng, randomMessage } from './gen.js';
import { vectors } from './vectors.js';

const LIB = ['/usr/lib/libplumb.so.2', '/usr/lib/x86_64-linux-gnu/libplumb.so.2'].find((p) => existsSync(p));
const SCRIPT = fileURLToPath(new URL('./libplumb-reencode.py', import.meta.url));

/** Runs the C round trip over many datagrams in one python process. */
function viaLibplumb(inputs: Buffer[]): ({ classic: Buffer; netstring: Buffer } | undefined)[] {
  if (!LIB) throw new Error('libplumb.so.2 not found (package libplumb2)');
  const r = spawnSync('/usr/bin/python3', [SCRIPT, LIB], {
    input: inputs.map((b) => b.toString('hex')).join('\n') + '\n',
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(inputs.length);
  return lines.map((l) => {
    const [tag, c, n] = l.split(' ');
    return tag === 'OK' && c !== undefined && n !== undefined
      ? { classic: Buffer.from(c, 'hex'), netstring: Buffer.from(n, 'hex') }
      : undefined;
  });
}

describe('agreement with libplumb.so.2', () => {
  test('vector datagrams: libplumb re-encodes them to our classic and netstring bodies', () => {
    const inputs = vectors.cases.flatMap((c) => [
      Buffer.from(c.netstring_datagram_hex, 'hex'),
      Buffer.from(c.classic_datagram_hex_old_glue, 'hex'),
    ]);
    const out = viaLibplumb(inputs);
    inputs.forEach((buf, i) => {
      const ours = decodeDatagram(buf);
      if (!ours.ok) throw new Error(ours.reason);
      expect(out[i]?.classic.equals(encodeClassic(ours.msg))).toBe(true);
      expect(out[i]?.netstring.equals(encodeNetstring(ours.msg))).toBe(true);
    });
  });

  test('300 random messages with every field type, nested up to depth 3, in both formats', () => {
    const rng = new Rng(0x11b91a3b);
    // glue's msg2string refuses an empty top-level message (empty nested ones are fine).
    const msgs = Array.from({ length: 300 }, () => {
      const m = randomMessage(rng, { classicSafe: true, maxDepth: 3 });
      return m.size === 0 ? m.add('t', 'x') : m;
    });
    const inputs = msgs.flatMap((m) => [encodeClassic(m), encodeNetstring(m)]);
    const out = viaLibplumb(inputs);
    inputs.forEach((_, i) => {
      const m = msgs[i >> 1]!;
      const got = out[i];
      expect(got, `message ${i >> 1} (${i % 2 ? 'netstring' : 'classic'}) refused by libplumb`).toBeDefined();
      expect(got?.classic.toString('hex')).toBe(encodeClassic(m).toString('hex'));
      expect(got?.netstring.toString('hex')).toBe(encodeNetstring(m).toString('hex'));
    });
  });

  test('inputs both parsers refuse', () => {
    const bad = ['>>>\r\nt=a\r\n<<<\r\n', '>>>\nt=a\nnoequals\n<<<\n', '>>>\n(0)t=a\n<<<\n', '>>>\n(3)l=0:,\n<<<\n', 'xyz\n'];
    const inputs = bad.map((s) => Buffer.from(s, 'latin1'));
    const out = viaLibplumb(inputs);
    inputs.forEach((b, i) => {
      expect(out[i], bad[i]).toBeUndefined();
      expect(decodeDatagram(b).ok, bad[i]).toBe(false);
    });
  });
});
