import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfiguration, nodeName, readServices, scriptExistsIn } from '../../../lib/config/load.js';
import { asciiLower } from '../../../lib/config/text.js';

const HA_CF = 'node node1 node2\nbcast eth0\nauto_failback on\nlogfile /dev/null\nuse_logd no\n';
const dirs: string[] = [];

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), `hbcfg-${process.pid}-`));
  dirs.push(d);
  return d;
}

function write(path: string, text: string, mode = 0o644): void {
  writeFileSync(path, text);
  chmodSync(path, mode);
}

/** A complete /etc/ha.d look-alike with one executable resource script. */
function haDir(files: { haCf?: string; authkeys?: string; authMode?: number; haresources?: string } = {}): string {
  const d = tempDir();
  if (files.haCf !== '') write(join(d, 'ha.cf'), files.haCf ?? HA_CF);
  if (files.authkeys !== '') write(join(d, 'authkeys'), files.authkeys ?? 'auth 1\n1 sha1 secret\n', files.authMode ?? 0o600);
  if (files.haresources !== '') write(join(d, 'haresources'), files.haresources ?? 'node1 10.0.0.1 svc\n');
  mkdirSync(join(d, 'resource.d'));
  write(join(d, 'resource.d', 'IPaddr'), '#!/bin/sh\n', 0o755);
  write(join(d, 'resource.d', 'svc'), '#!/bin/sh\n', 0o755);
  return d;
}

const load = (d: string, extra: Parameters<typeof loadConfiguration>[0] = {}): ReturnType<typeof loadConfiguration> =>
  loadConfiguration({ haDir: d, nodename: 'node1', resourceDirs: [join(d, 'resource.d')], servicesFile: join(d, 'services'), ...extra });

const codes = (r: ReturnType<typeof loadConfiguration>): string[] => r.problems.filter((p) => p.severity === 'error').map((p) => p.code);

describe('nodeName', () => {
  it('uses the first line of nodeinfo, lowercased', () => {
    const d = tempDir();
    write(join(d, 'nodeinfo'), 'Node-A\nignored\n');
    expect(nodeName(d)).toBe('node-a');
  });

  it('falls back to the host name when nodeinfo is missing, unterminated or too long', () => {
    const d = tempDir();
    expect(nodeName(d)).toBe(asciiLower(hostname()));
    write(join(d, 'nodeinfo'), 'no-newline');
    expect(nodeName(d)).toBe(asciiLower(hostname()));
    write(join(d, 'nodeinfo'), `${'x'.repeat(300)}\n`);
    expect(nodeName(d)).toBe(asciiLower(hostname()));
  });
});

describe('loadConfiguration', () => {
  it('loads a complete directory', () => {
    const d = haDir();
    const r = load(d);
    expect(codes(r)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.config?.nodes).toEqual(['node1', 'node2']);
    expect(r.keys?.activeNum).toBe(1);
    expect(r.groups?.map((g) => g.key)).toEqual(['10.0.0.1']);
    expect(r.files).toEqual({ haCf: join(d, 'ha.cf'), authkeys: join(d, 'authkeys'), haresources: join(d, 'haresources'), hbtsCf: join(d, 'heartbeat-ts.cf') });
  });

  it('takes the node name from nodeinfo when none is given', () => {
    const d = haDir();
    write(join(d, 'nodeinfo'), 'NODE2\n');
    const r = loadConfiguration({ haDir: d, resourceDirs: [join(d, 'resource.d')] });
    expect(r.nodename).toBe('node2');
    expect(codes(r)).toEqual([]);
  });

  it('reports a missing ha.cf and a missing authkeys', () => {
    const d = haDir({ haCf: '', authkeys: '' });
    const r = load(d);
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => [p.code, p.line])).toEqual([['HACF_FILE_MISSING', 0], ['AUTH_FILE_MISSING', 0]]);
    expect(r.problems[0]?.message).toMatch(new RegExp(`^Cannot open config file \\[${join(d, 'ha.cf')}\\]`));
    expect(r.problems[1]?.message).toMatch(new RegExp(`^Cannot open keyfile \\[${join(d, 'authkeys')}\\]\\.  Stop\\.`));
  });

  it('checks the real mode of authkeys', () => {
    expect(codes(load(haDir({ authMode: 0o644 })))).toEqual(['AUTH_BAD_PERMISSIONS']);
    expect(codes(load(haDir({ authMode: 0o600 })))).toEqual([]);
    expect(codes(load(haDir({ authMode: 0o400 })))).toEqual([]);
  });

  it('requires haresources in v1 mode, as heartbeat 3.0.6 does', () => {
    const r = load(haDir({ haresources: '' }));
    expect(codes(r)).toEqual(['HARES_FILE_MISSING']);
    expect(r.problems.find((p) => p.code === 'HARES_FILE_MISSING')?.message).toMatch(/^Cannot open resources file \[/);
  });

  it('does not read haresources with crm on or without resource management', () => {
    const crm = `${HA_CF}crm yes\n`;
    expect(codes(load(haDir({ haCf: crm, haresources: '' })))).toEqual([]);
    const unused = load(haDir({ haCf: crm, haresources: 'bogus line\n' }));
    expect(codes(unused)).toEqual([]);
    expect(unused.problems.find((p) => p.code === 'HARES_UNUSED')?.severity).toBe('warning');
    expect(codes(load(haDir({ haresources: 'bogus line\n' }), { manageResources: false }))).toEqual([]);
  });

  it('checks haresources against the nodes and scripts', () => {
    const r = load(haDir({ haresources: 'node3 10.0.0.1\nnode2 nosuchscript\n' }));
    expect(r.problems.filter((p) => p.severity === 'error').map((p) => [p.code, p.line])).toEqual([
      ['HARES_BAD_NODE', 1], ['HARES_NO_SCRIPT', 2],
    ]);
  });

  it('checks serial devices and respawn programs on the system', () => {
    const d = tempDir();
    write(join(d, 'plain'), '');
    write(join(d, 'prog'), '#!/bin/sh\n', 0o644);
    const cf = `${HA_CF}serial /dev/null ${join(d, 'nope')} ${join(d, 'plain')}\nrespawn root ${join(d, 'prog')}\nrespawn root /bin/sh -c true\nrespawn hacluster /nonexistent/heartbeat/ipfail\n`;
    const r = load(haDir({ haCf: cf }));
    expect(r.problems.filter((p) => p.severity === 'error').map((p) => [p.line, p.message])).toEqual([
      [6, `Nonexistent serial port [${join(d, 'nope')}] in config file`],
      [6, `Serial port [${join(d, 'plain')}] not a char device in config file`],
      [7, `Client child command [${join(d, 'prog')}] is not executable`],
      // heartbeat's ipfail is run as configured: a missing one is reported like any other program.
      [9, 'Client child command [/nonexistent/heartbeat/ipfail] is not executable'],
    ]);
  });

  it('uses the ha-cluster port of the services file', () => {
    const d = haDir();
    write(join(d, 'services'), '# x\nfoo 1/tcp\nha-cluster\t6940/udp\t\t# Heartbeat\nhb 6941/udp ha-cluster\n');
    expect(readServices(join(d, 'services')).get('ha-cluster')).toBe(6940);
    expect(load(d).config?.udpport).toBe(6940);
  });
});

describe('scriptExistsIn', () => {
  it('wants a regular executable file in one of the directories', () => {
    const a = tempDir();
    const b = tempDir();
    write(join(a, 'exe'), '#!/bin/sh\n', 0o755);
    write(join(a, 'data'), 'x', 0o644);
    mkdirSync(join(a, 'dir'));
    chmodSync(join(a, 'dir'), 0o755);
    write(join(b, 'second'), '#!/bin/sh\n', 0o700);
    symlinkSync(join(a, 'exe'), join(b, 'link'));
    const exists = scriptExistsIn([a, b]);
    expect(['exe', 'data', 'dir', 'second', 'link', 'missing'].map(exists)).toEqual([true, false, false, true, true, false]);
  });
});
