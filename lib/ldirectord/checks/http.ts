/**
 * HTTP, HTTPS and HTTP-proxy negotiate checks: request the configured URI
 * with the configured Host header; up when the answer is 2xx (after up to
 * 7 redirects on the same real server, see redirect.ts) and the body
 * matches `receive`. Certificates are not verified: a check asks whether
 * the service answers, not whether its certificate is trusted.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { CheckFailure } from './io.js';
import { decideRedirect, MAX_REDIRECTS } from './redirect.js';
import type { CheckContext, CheckOutcome } from './types.js';

const MAX_BODY = 1 << 20;

interface Reply { status: number; statusText: string; body: string; location: string | undefined }

function fetchOnce(url: URL, c: CheckContext, signal: AbortSignal, proxy: boolean, hostOverride?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const https = url.protocol === 'https:' && !proxy;
    const hostHeader = hostOverride ?? (proxy ? url.host : (c.virtualhost ?? url.host));
    const req = (https ? httpsRequest : httpRequest)({
      host: proxy ? c.host : url.hostname,
      port: proxy ? c.port : Number(url.port || (https ? 443 : 80)),
      method: c.httpmethod,
      path: proxy ? url.href : `${url.pathname}${url.search}`,
      headers: { Host: hostHeader, 'User-Agent': 'heartbeat-ts-ldirectord', Connection: 'close' },
      agent: false,
      signal,
      ...(https ? { rejectUnauthorized: false, servername: c.virtualhost ?? (/^\d+\.\d+\.\d+\.\d+$/.test(url.hostname) ? '' : url.hostname) } : {}),
    }, (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d: string) => {
        if (body.length < MAX_BODY) body += d;
      });
      res.on('end', () => resolve({
        status: res.statusCode ?? 0, statusText: `${res.statusCode ?? 0} ${res.statusMessage ?? ''}`.trim(),
        body, location: res.headers.location,
      }));
      res.on('error', (e) => reject(new CheckFailure(`reading the response failed: ${e.message}`)));
    });
    req.on('error', (e) => reject(new CheckFailure(signal.aborted ? 'timed out' : e.message)));
    req.end();
  });
}

export function checkUrl(c: CheckContext): URL {
  if (/^[a-z]+:\/\//i.test(c.request)) return new URL(c.request);
  const scheme = c.service === 'https' ? 'https' : 'http';
  return new URL(`${scheme}://${c.host}:${c.port}${c.request.startsWith('/') ? '' : '/'}${c.request}`);
}

export async function checkHttp(c: CheckContext, signal: AbortSignal): Promise<CheckOutcome> {
  const proxy = c.service === 'http_proxy';
  const origin = checkUrl(c);
  let url = origin;
  let hostHeader: string | undefined;
  for (let hop = 0; ; hop++) {
    const r = await fetchOnce(url, c, signal, proxy, hostHeader);
    if (r.status >= 300 && r.status < 400 && r.location && hop < MAX_REDIRECTS) {
      const d = decideRedirect(r.location, url, origin, c.virtualhost);
      if (!d.follow) return { up: false, message: `${r.statusText}: ${d.why}` };
      url = d.url;
      hostHeader = d.hostHeader;
      continue;
    }
    if (r.status < 200 || r.status >= 300) return { up: false, message: r.statusText };
    if (c.receive !== '' && c.httpmethod === 'GET' && !new RegExp(c.receive).test(r.body)) {
      return { up: false, message: `${r.statusText}, but the body does not match /${c.receive}/` };
    }
    return { up: true, message: r.statusText };
  }
}
