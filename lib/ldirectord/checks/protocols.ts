/**
 * Negotiate checks for line-based protocols, each a short scripted
 * conversation: the service is up when the server answers as the protocol
 * says (and accepts the login when one is configured).
 */
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { CheckFailure, converse, SocketIO } from './io.js';
import type { CheckContext, CheckOutcome } from './types.js';

const up = (message: string): CheckOutcome => ({ up: true, message });

export async function checkConnect(c: CheckContext, signal: AbortSignal): Promise<CheckOutcome> {
  const io = await SocketIO.open(c.host, c.port, signal);
  io.close();
  return up(`connected to ${c.host}:${c.port}`);
}

/** Sends the request (without its leading slash, `\n` made a newline) and matches the reply. */
export async function checkSimpleTcp(c: CheckContext, signal: AbortSignal): Promise<CheckOutcome> {
  const request = c.request.replace(/^\//, '').replace(/\\n/g, '\n');
  const re = new RegExp(c.receive);
  return converse(c.host, c.port, signal, async (io) => {
    io.send(request);
    io.endWrite();
    const got = await io.expect(re, `a reply matching /${c.receive}/`);
    return up(`reply matched: ${got.slice(0, 60).trim()}`);
  });
}

export async function checkSmtp(c: CheckContext, signal: AbortSignal): Promise<CheckOutcome> {
  return converse(c.host, c.port, signal, async (io) => {
    const banner = await io.expect(/(^|\n)\d{3} [^\n]*\n/, 'the SMTP greeting');
    if (!/(^|\n)220 /.test(banner)) throw new CheckFailure(`SMTP greeting is not 220: ${banner.trim()}`);
    io.send(`EHLO ${c.hostname}\r\n`);
    const ehlo = await io.expect(/(^|\n)\d{3} [^\n]*\n/, 'the EHLO reply');
    if (!/(^|\n)250 /.test(ehlo)) throw new CheckFailure(`EHLO refused: ${ehlo.trim()}`);
    io.send('QUIT\r\n');
    return up(banner.trim().split('\n')[0] ?? '220');
  });
}

export async function checkPop(c: CheckContext, signal: AbortSignal, tls: boolean): Promise<CheckOutcome> {
  return converse(c.host, c.port, signal, async (io) => {
    const greet = await io.line('the POP3 greeting');
    if (!greet.startsWith('+OK')) throw new CheckFailure(`POP3 greeting: ${greet.trim()}`);
    if (c.login !== '') {
      io.send(`USER ${c.login}\r\n`);
      if (!(await io.line('the USER reply')).startsWith('+OK')) throw new CheckFailure('POP3 USER refused');
      io.send(`PASS ${c.passwd}\r\n`);
      if (!(await io.line('the PASS reply')).startsWith('+OK')) throw new CheckFailure('POP3 login refused');
    }
    io.send('QUIT\r\n');
    return up(greet.trim());
  }, tls);
}

export async function checkImap(c: CheckContext, signal: AbortSignal, tls: boolean): Promise<CheckOutcome> {
  return converse(c.host, c.port, signal, async (io) => {
    const greet = await io.line('the IMAP greeting');
    if (!/^\* (OK|PREAUTH)/i.test(greet)) throw new CheckFailure(`IMAP greeting: ${greet.trim()}`);
    if (c.login !== '') {
      const q = (s: string): string => `"${s.replace(/(["\\])/g, '\\$1')}"`;
      io.send(`a1 LOGIN ${q(c.login)} ${q(c.passwd)}\r\n`);
      const res = await io.expect(/(^|\n)a1 [^\n]*\n/i, 'the LOGIN reply');
      if (!/(^|\n)a1 OK/i.test(res)) throw new CheckFailure('IMAP login refused');
    }
    io.send('a2 LOGOUT\r\n');
    return up(greet.trim());
  }, tls);
}

export async function checkNntp(c: CheckContext, signal: AbortSignal): Promise<CheckOutcome> {
  return converse(c.host, c.port, signal, async (io) => {
    const greet = await io.line('the NNTP greeting');
    if (!greet.startsWith('2')) throw new CheckFailure(`NNTP greeting: ${greet.trim()}`);
    io.send('QUIT\r\n');
    return up(greet.trim());
  });
}

/** Logs in, fetches the request file in passive mode and matches its content. */
export async function checkFtp(c: CheckContext, signal: AbortSignal): Promise<CheckOutcome> {
  return converse(c.host, c.port, signal, async (io) => {
    const final = /(^|\n)\d{3} [^\n]*\n/;
    const code = async (what: string): Promise<string> => (await io.expect(final, what)).trim().split('\n').pop() ?? '';
    let r = await code('the FTP greeting');
    if (!r.startsWith('220')) throw new CheckFailure(`FTP greeting: ${r}`);
    io.send(`USER ${c.login}\r\n`);
    r = await code('the USER reply');
    if (r.startsWith('331')) {
      io.send(`PASS ${c.passwd}\r\n`);
      r = await code('the PASS reply');
    }
    if (!r.startsWith('230')) throw new CheckFailure(`FTP login refused: ${r}`);
    io.send('TYPE I\r\n');
    await code('the TYPE reply');
    io.send('PASV\r\n');
    r = await code('the PASV reply');
    const pm = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(r);
    if (!r.startsWith('227') || !pm) throw new CheckFailure(`FTP PASV refused: ${r}`);
    // Connect data to the control host: servers behind NAT announce wrong addresses.
    const dataPort = Number(pm[5]) * 256 + Number(pm[6]);
    const data = await SocketIO.open(c.host, dataPort, signal);
    try {
      io.send(`RETR ${c.request.replace(/^\//, '')}\r\n`);
      const content = await data.readToEnd('the file contents');
      io.send('QUIT\r\n');
      if (!new RegExp(c.receive).test(content)) throw new CheckFailure(`FTP file does not match /${c.receive}/`);
      return up(`retrieved ${c.request}`);
    } finally {
      data.close();
    }
  });
}

function sipRequest(c: CheckContext, localAddr: string, localPort: number): string {
  return `OPTIONS sip:${c.login} SIP/2.0\r\n` +
    `Via: SIP/2.0/${c.protocol === 'udp' ? 'UDP' : 'TCP'} ${localAddr}:${localPort};branch=z9hG4bK${randomBytes(6).toString('hex')}\r\n` +
    'Max-Forwards: 70\r\n' +
    `To: <sip:${c.login}>\r\n` +
    `From: <sip:${c.login}>;tag=${randomBytes(4).toString('hex')}\r\n` +
    `Call-ID: ${randomBytes(8).toString('hex')}\r\n` +
    'CSeq: 63104 OPTIONS\r\n' +
    `Contact: <sip:${c.login}>\r\n` +
    'Accept: application/sdp\r\n' +
    'Content-Length: 0\r\n\r\n';
}

/** SIP OPTIONS; up on `SIP/2.0 200 OK`. UDP services are checked over UDP. */
export async function checkSip(c: CheckContext, signal: AbortSignal): Promise<CheckOutcome> {
  if (c.protocol === 'udp') {
    const sock = createSocket('udp4');
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        signal.addEventListener('abort', () => reject(new CheckFailure('SIP OPTIONS timed out')), { once: true });
        sock.on('error', (e) => reject(new CheckFailure(`SIP: ${e.message}`)));
        sock.on('message', (m) => resolve(m.toString('latin1')));
        sock.connect(c.port, c.host, () => {
          const a = sock.address();
          sock.send(sipRequest(c, a.address, a.port));
        });
      });
      if (!/^SIP\/2\.0 200/.test(answer)) throw new CheckFailure(`SIP reply: ${answer.split('\n')[0]?.trim() ?? ''}`);
      return up('SIP/2.0 200 OK');
    } finally {
      sock.close();
    }
  }
  return converse(c.host, c.port, signal, async (io) => {
    io.send(sipRequest(c, io.socket.localAddress ?? '0.0.0.0', io.socket.localPort ?? 0));
    const first = await io.line('the SIP status line');
    if (!/^SIP\/2\.0 200/.test(first)) throw new CheckFailure(`SIP reply: ${first.trim()}`);
    return up(first.trim());
  });
}
