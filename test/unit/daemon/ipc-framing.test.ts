/**
 * cluster-glue's IPC framing (daemon/api/ipc-framing.ts): frames split
 * anywhere, several in one chunk, the bounds a client cannot pass (length
 * over glue's MAXMSG, negative length, wrong magic), and the ha_msg bodies
 * as glue writes them (classic text + NUL; netstring for struct fields).
 */
import { describe, expect, it } from 'vitest';
import {
  decodeApiBody, encodeApiBody, ipcFrame, ipcHeader, IPC_HEADER_LEN, IPC_MAGIC, IPC_MAXMSG, IpcFrameReader,
} from '../../../daemon/api/ipc-framing.js';
import { HaMsg } from '../../../lib/wire/index.js';

const body = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('IPC frames', () => {
  it('writes the header glue expects: int length, unsigned magic 0xabcd, host byte order (little-endian here)', () => {
    expect(ipcHeader(5).toString('hex')).toBe('05000000cdab0000');
    expect(ipcFrame(body('abc')).toString('latin1')).toBe('\x03\x00\x00\x00\xcd\xab\x00\x00abc');
  });

  it('reassembles frames split at every byte, and returns several frames from one chunk', () => {
    const stream = Buffer.concat([ipcFrame(body('first')), ipcFrame(body('')), ipcFrame(body('third one'))]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const r = new IpcFrameReader();
      const a = r.push(stream.subarray(0, cut));
      const b = r.push(stream.subarray(cut));
      if (!a.ok || !b.ok) throw new Error('refused');
      expect([...a.frames, ...b.frames].map((f) => f.toString())).toEqual(['first', '', 'third one']);
      expect(r.buffered).toBe(0);
    }
    const bytewise = new IpcFrameReader();
    const got: string[] = [];
    for (const byte of stream) {
      const r = bytewise.push(Buffer.from([byte]));
      if (!r.ok) throw new Error(r.reason);
      got.push(...r.frames.map((f) => f.toString()));
    }
    expect(got).toEqual(['first', '', 'third one']);
  });

  it('accepts a body of exactly MAXMSG, refuses one byte more before buffering it, and stays refused', () => {
    const ok = new IpcFrameReader().push(Buffer.concat([ipcHeader(IPC_MAXMSG), Buffer.alloc(IPC_MAXMSG, 0x61)]));
    expect(ok.ok && ok.frames[0]?.length).toBe(IPC_MAXMSG);
    const r = new IpcFrameReader();
    expect(r.push(ipcHeader(IPC_MAXMSG + 1))).toEqual({ ok: false, reason: `IPC message length ${IPC_MAXMSG + 1} out of range (0 to ${IPC_MAXMSG})` });
    expect(r.buffered).toBe(0);
    expect(r.push(ipcFrame(body('later')))).toMatchObject({ ok: false });
    expect(() => ipcFrame(Buffer.alloc(IPC_MAXMSG + 1))).toThrow(RangeError);
  });

  it('refuses a negative length and a wrong magic (garbage on the socket)', () => {
    const neg = Buffer.alloc(IPC_HEADER_LEN);
    neg.writeInt32LE(-1, 0);
    neg.writeUInt32LE(IPC_MAGIC, 4);
    expect(new IpcFrameReader().push(neg)).toMatchObject({ ok: false, reason: 'IPC message length -1 out of range (0 to 262144)' });
    expect(new IpcFrameReader().push(body('>>>\nt=hbapi-req\n<<<\n'))).toMatchObject({ ok: false, reason: expect.stringMatching(/^bad IPC header magic/) });
    // fewer than 8 bytes: nothing decided yet
    expect(new IpcFrameReader().push(body('>>>\n'))).toEqual({ ok: true, frames: [] });
  });
});

describe('API message bodies', () => {
  it('encodes classic text with glue\'s trailing NUL and decodes it back', () => {
    const m = new HaMsg().add('t', 'hbapi-req').add('reqtype', 'signon').add('pid', '42');
    const b = encodeApiBody(m);
    expect(b.toString('latin1')).toBe('>>>\nt=hbapi-req\nreqtype=signon\npid=42\n<<<\n\0');
    const r = decodeApiBody(b);
    expect(r.ok && r.msg.toRecord()).toEqual({ t: 'hbapi-req', reqtype: 'signon', pid: '42' });
  });

  it('uses netstring for a message with a struct field, as glue must', () => {
    const m = new HaMsg().add('t', 'x').addStruct('inner', new HaMsg().add('a', 'b'));
    expect(encodeApiBody(m).subarray(0, 4).toString()).toBe('###\n');
    const r = decodeApiBody(encodeApiBody(m));
    expect(r.ok && r.msg.getStruct('inner')?.get('a')).toBe('b');
  });

  it('refuses bodies that are not ha_msgs, without throwing', () => {
    for (const junk of ['', 'hello', '>>>\nno end', '###\n99999:x', '\0\0\0\0\0']) {
      expect(decodeApiBody(body(junk)).ok).toBe(false);
    }
  });
});
