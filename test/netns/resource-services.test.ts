/**
 * The other resource.d scripts (Delay, MailTo, apache) and the LSB init
 * script fixture (test/netns/fixtures/httpd-init.sh) that tests and the demo
 * use as the "web service": served on a floating address made by IPaddr
 * and fetched from the lab's client namespace.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from './harness/lab.js';
import { HTTPD_INIT, RSC_DIR, rscHost, rscIn, statusSaysRunning } from './resource-support.js';

let lab: Lab;
let dir = '';
const env = (): Record<string, string> => ({ HA_RSCTMP: join(dir, 'rsctmp') });
const host = (script: string, args: string[], extra: Record<string, string> = {}) => rscHost(join(RSC_DIR, script), args, { ...env(), ...extra });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hb-rsc-'));
  lab = await Lab.up({ nodes: 1 });
}, 120_000);

afterAll(async () => {
  try {
    // the fixture server runs in node1: stopping it is part of cleanup
    await lab?.exec(1, [HTTPD_INIT, join(dir, 'www'), '8080', 'stop']);
  } finally {
    await lab?.down();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

describe('Delay', () => {
  it('sleeps on start and stop, is a pseudo resource for status, refuses non-numbers', async () => {
    expect(statusSaysRunning((await host('Delay', ['1', 'status'])).stdout)).toBe(false);
    const t0 = Date.now();
    expect(await host('Delay', ['1', 'start'])).toMatchObject({ code: 0, stdout: 'INFO:  Success\n' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    const st = await host('Delay', ['1', 'status']);
    expect(st).toMatchObject({ code: 0, stdout: 'INFO:  Running OK\n' });
    expect(statusSaysRunning(st.stdout)).toBe(true);
    // haresources Delay::1::0: same instance (named by the start delay), no stop delay
    expect((await host('Delay', ['1', '0', 'stop'])).code).toBe(0);
    expect(await host('Delay', ['1', 'status'])).toMatchObject({ code: 7, stdout: 'INFO:  Resource is stopped\n' });
    const bad = await host('Delay', ['soon', 'start']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("delay 'soon' is not a number");
    expect((await host('Delay', ['1', '2', '3', 'start'])).code).toBe(2);
  });
});

describe('MailTo', () => {
  it('mails takeover and release through $MAILCMD, one argument per address', async () => {
    const outbox = join(dir, 'outbox');
    const mailer = join(dir, 'record-mail');
    writeFileSync(mailer, `#!/bin/sh\n{ printf 'ARGV:'; printf ' [%s]' "$@"; echo; cat; echo '--'; } >> '${outbox}'\n`);
    chmodSync(mailer, 0o755);
    const m = { MAILCMD: mailer };
    expect((await host('MailTo', ['ops@example.org,dba@example.org', 'WebCluster', 'start'], m)).code).toBe(0);
    expect(statusSaysRunning((await host('MailTo', ['ops@example.org,dba@example.org', 'WebCluster', 'status'])).stdout)).toBe(true);
    expect((await host('MailTo', ['ops@example.org,dba@example.org', 'WebCluster', 'stop'], m)).code).toBe(0);
    expect(statusSaysRunning((await host('MailTo', ['ops@example.org,dba@example.org', 'WebCluster', 'status'])).stdout)).toBe(false);
    const sent = readFileSync(outbox, 'utf8').split('--\n').filter((x) => x !== '');
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatch(/^ARGV: \[-s\] \[WebCluster Takeover in progress at .+ on \S+\] \[ops@example\.org\] \[dba@example\.org\]\n/);
    expect(sent[1]).toMatch(/^ARGV: \[-s\] \[WebCluster Migrating resource away at .+ from \S+\]/);
  });

  it('without a mailer: start exits 5, stop succeeds with a warning', async () => {
    const none = { MAILCMD: join(dir, 'no-such-mailer') };
    const start = await host('MailTo', ['ops@example.org', 'start'], none);
    expect(start).toMatchObject({ code: 5, stdout: 'ERROR:  Program is not installed\n' });
    expect(start.stderr).toContain('is not an executable program');
    const stop = await host('MailTo', ['ops@example.org', 'stop'], none);
    expect(stop.code).toBe(0);
    expect(stop.stderr).toContain('WARNING: release of the group not mailed');
    expect((await host('MailTo', ['start'])).code).toBe(2);
    expect((await host('MailTo', ['not-an-address', 'start'], none)).code).toBe(2);
  });
});

describe('apache', () => {
  it('with no Apache installed: start exits 5 with a message, status says stopped, stop succeeds', async () => {
    const missing = { HTTPD: join(dir, 'no-such-httpd') };
    const start = await host('apache', ['start'], missing);
    expect(start).toMatchObject({ code: 5, stdout: 'ERROR:  Program is not installed\n' });
    expect(start.stderr).toContain('Apache is not installed');
    const status = await host('apache', ['/etc/apache2/apache2.conf', 'status'], missing);
    expect(status.code).toBe(7);
    expect(statusSaysRunning(status.stdout)).toBe(false);
    expect((await host('apache', ['stop'], missing)).code).toBe(0);
    expect((await host('apache', ['a', 'b', 'status'], missing)).code).toBe(2);
  });
});

describe('httpd-init.sh fixture (LSB init script, as /etc/init.d/httpd)', () => {
  it('serves its directory on a floating IPaddr address; LSB status output and exit codes', async () => {
    const www = join(dir, 'www');
    rmSync(www, { recursive: true, force: true });
    mkdirSync(www);
    writeFileSync(join(www, 'index.html'), 'served by node1\n');
    const init = (op: string) => lab.exec(1, [HTTPD_INIT, www, '8080', op]);
    const vip = `${lab.subnet}.100`;

    const before = await init('status');
    expect(before).toMatchObject({ code: 3, stdout: 'httpd-init is not running\n' });
    expect(statusSaysRunning(before.stdout)).toBe(false);
    expect((await rscIn(lab, 1, `IPaddr::${vip}/24/eth0`, 'start', { HB_ARP_COUNT: '1' })).code).toBe(0);
    expect((await init('start')).code).toBe(0);
    const st = await init('status');
    expect(st.code).toBe(0);
    expect(st.stdout).toMatch(/^httpd-init is running \(pid \d+\)\n$/);
    expect(statusSaysRunning(st.stdout)).toBe(true);
    expect((await init('start')).stdout).toContain('already running');

    const page = await lab.exec('c', ['curl', '-sS', '--max-time', '10', `http://${vip}:8080/index.html`]);
    expect(page).toMatchObject({ code: 0, stdout: 'served by node1\n' });

    expect((await init('restart')).code).toBe(0);
    expect(statusSaysRunning((await init('status')).stdout)).toBe(true);
    expect((await init('stop')).code).toBe(0);
    expect((await init('stop')).code).toBe(0);
    const after = await init('status');
    expect(after.code).toBe(3);
    expect(statusSaysRunning(after.stdout)).toBe(false);
    const refused = await lab.exec('c', ['curl', '-sS', '--max-time', '5', `http://${vip}:8080/`]);
    expect(refused.code).not.toBe(0);
    expect((await rscIn(lab, 1, `IPaddr::${vip}/24/eth0`, 'stop')).code).toBe(0);

    expect((await lab.exec(1, [HTTPD_INIT, join(dir, 'no-such-docroot'), '8081', 'start'])).code).toBe(6);
    expect((await lab.exec(1, [HTTPD_INIT, 'bogus'])).code).toBe(2);
  });
});
