import { describe, expect, it } from 'vitest';
import { SerialFrameReader, chunkPauseMs, serialFrameFor, splitChunks } from '../../../lib/media/serial-frame.js';

const feedAll = (r: SerialFrameReader, ...parts: string[]) => {
  const frames: string[] = [];
  const dropped: string[] = [];
  for (const p of parts) {
    const res = r.feed(Buffer.from(p, 'latin1'));
    frames.push(...res.frames.map((f) => f.toString('latin1')));
    dropped.push(...res.dropped);
  }
  return { frames, dropped };
};

describe('SerialFrameReader', () => {
  it('assembles a frame delivered one byte at a time', () => {
    const r = new SerialFrameReader();
    const text = '>>>\nt=status\nst=active\n<<<\n';
    expect(feedAll(r, ...text.split('')).frames).toEqual([text]);
  });

  it('accepts marker lines that merely start with >>> / <<<, as heartbeat does, and emits clean markers', () => {
    const r = new SerialFrameReader();
    expect(feedAll(r, '>>> \nt=x\n<<<junk\n').frames).toEqual(['>>>\nt=x\n<<<\n']);
  });

  it('restarts on a second >>> inside a frame and reports the lost one', () => {
    const r = new SerialFrameReader();
    const res = feedAll(r, '>>>\nt=lost\n>>>\nt=kept\n<<<\n');
    expect(res.frames).toEqual(['>>>\nt=kept\n<<<\n']);
    expect(res.dropped).toEqual(['frame restarted by >>> before its <<<']);
  });

  it('bounds a single endless line while hunting and inside a frame', () => {
    const r = new SerialFrameReader(1024);
    let res = feedAll(r, 'x'.repeat(5000), '\n', '>>>\nt=ok\n<<<\n');
    expect(res.frames).toEqual(['>>>\nt=ok\n<<<\n']);
    expect(res.dropped).toEqual([]); // garbage before >>> is skipped silently
    res = feedAll(r, '>>>\n', 'y'.repeat(5000), '\n<<<\n', '>>>\nt=again\n<<<\n');
    expect(res.frames).toEqual(['>>>\nt=again\n<<<\n']);
    expect(res.dropped).toEqual(['frame exceeds 1024 bytes without <<<']);
  });

  it('strips the 8th bit and ignores CR', () => {
    const r = new SerialFrameReader();
    const hi = Buffer.from(Buffer.from('>>>\r\nt=hi\r\n<<<\r\n', 'latin1').map((c) => c | 0x80));
    expect(r.feed(hi).frames.map((f) => f.toString('latin1'))).toEqual(['>>>\nt=hi\n<<<\n']);
  });
});

describe('sending helpers', () => {
  it('accepts classic text, strips trailing NULs, refuses netstring and junk', () => {
    expect(serialFrameFor(Buffer.from('>>>\nt=a\n<<<\n\0'))).toEqual(Buffer.from('>>>\nt=a\n<<<\n'));
    expect(typeof serialFrameFor(Buffer.from('###\n(1)...'))).toBe('string');
    expect(typeof serialFrameFor(Buffer.from('>>>\nt=a\n'))).toBe('string');
    expect(typeof serialFrameFor(Buffer.alloc(0))).toBe('string');
  });

  it('splits into 512-byte chunks and paces them at the line rate', () => {
    expect(splitChunks(Buffer.alloc(1300)).map((c) => c.length)).toEqual([512, 512, 276]);
    expect(splitChunks(Buffer.alloc(512)).map((c) => c.length)).toEqual([512]);
    expect(chunkPauseMs(19200)).toBeCloseTo(213.33, 1);
    expect(chunkPauseMs(9600)).toBeCloseTo(426.67, 1);
  });
});
