/**
 * Which redirects an HTTP check follows.
 *
 * The original ldirectord checks with Perl's LWP::UserAgent->request, which
 * follows up to 7 redirects of a GET or HEAD to any URL. That judges one
 * real server by another host's answer (a server answering only `302 →
 * elsewhere` counts as up), and lets a real server make the director send
 * requests anywhere it can reach — its own loopback services included.
 * heartbeat-ts keeps the 7-hop limit and the GET/HEAD rule but follows a
 * redirect only when it stays on the same real server: the host of the
 * URL being checked, or the configured `virtualhost` name, which is
 * requested from that same address with that Host header. Any other
 * target is not fetched; the check is judged on the 3xx answer (down).
 */

export const MAX_REDIRECTS = 7;

export type RedirectDecision =
  | { follow: true; url: URL; hostHeader: string | undefined }
  | { follow: false; why: string };

/** Hostname without IPv6 brackets, lowercase, for comparison. */
const bare = (h: string): string => h.replace(/^\[|\]$/g, '').toLowerCase();

/** The host part of a `virtualhost` value (`www.example.org:8080` → `www.example.org`). */
function virtualName(virtualhost: string | undefined): string | undefined {
  if (virtualhost === undefined || virtualhost === '') return undefined;
  try {
    return bare(new URL(`http://${virtualhost}/`).hostname);
  } catch {
    return undefined;
  }
}

/**
 * Decides about one `Location`, relative to the URL just requested. `origin`
 * is the URL the check started from (its host is the real server's).
 */
export function decideRedirect(location: string, current: URL, origin: URL, virtualhost: string | undefined): RedirectDecision {
  let next: URL;
  try {
    next = new URL(location, current);
  } catch {
    return { follow: false, why: 'unparsable Location' };
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') return { follow: false, why: `Location scheme ${next.protocol} not followed` };
  if (next.username !== '' || next.password !== '') return { follow: false, why: 'Location with credentials not followed' };
  const host = bare(next.hostname);
  if (host === bare(origin.hostname)) return { follow: true, url: next, hostHeader: undefined };
  if (host === virtualName(virtualhost)) {
    // the site's own name: ask the same real server for it, as the first request did
    const url = new URL(next.href);
    url.hostname = origin.hostname;
    return { follow: true, url, hostHeader: next.host };
  }
  return { follow: false, why: `redirect to another host (${next.host}) not followed` };
}
