import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorReporter } from '../../../lib/media/report.js';
import { UdpLink } from '../../../lib/media/udp.js';
import { until } from '../until.js';

const open: Socket[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

function receiver(): Promise<{ port: number; got: string[] }> {
  return new Promise((resolve) => {
    const got: string[] = [];
    const s = createSocket('udp4');
    open.push(s);
    s.on('message', (m) => got.push(m.toString()));
    s.bind(0, '127.0.0.1', () => resolve({ port: s.address().port, got }));
  });
}

describe('UdpLink', () => {
  it('close() lets datagrams already sent leave first (a shutdone sent just before closing arrives)', async () => {
    const rx = await receiver();
    const link = new UdpLink(
      { who: 'test lo', recvAddress: '127.0.0.1', port: 0, destAddress: '127.0.0.1', destPort: rx.port },
      new ErrorReporter(),
    );
    await link.open(() => undefined);
    link.send(Buffer.from('t=shutdone'));
    link.send(Buffer.from('t=status 1'));
    link.send(Buffer.from('t=status 2'));
    await link.close();
    await until('three datagrams', () => rx.got.length >= 3);
    expect(rx.got).toEqual(['t=shutdone', 't=status 1', 't=status 2']);
  });

  it('close() does not wait when nothing is in flight, and sends after close are refused', async () => {
    const rx = await receiver();
    const errors: string[] = [];
    const reporter = new ErrorReporter();
    reporter.setSink((e) => errors.push(e.message));
    const link = new UdpLink({ who: 'test lo', recvAddress: '127.0.0.1', port: 0, destAddress: '127.0.0.1', destPort: rx.port }, reporter);
    await link.open(() => undefined);
    // With a drain bound far beyond the test's timeout: close() must not wait for it.
    const closed = await Promise.race([
      link.close(600_000).then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('waited'), 20_000)),
    ]);
    expect(closed).toBe('closed');
    link.send(Buffer.from('late'));
    await new Promise((r) => setTimeout(r, 50));
    expect(rx.got).toEqual([]);
    expect(errors).toEqual(['test lo: cannot send: medium is closed']);
  });
});
