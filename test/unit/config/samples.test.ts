import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAuthKeys } from '../../../lib/config/authkeys.js';
import { parseHaCf } from '../../../lib/config/hacf.js';
import { parseHaResources } from '../../../lib/config/haresources.js';
import { loadConfiguration } from '../../../lib/config/load.js';

const SAMPLES = join(import.meta.dirname, '../../../ha.d');
const read = (name: string): string => readFileSync(join(SAMPLES, name), 'utf8');

describe('sample configuration files', () => {
  it('ha.cf parses for node1 with no error and only the expected logd warning', () => {
    const r = parseHaCf(read('ha.cf'), { file: 'ha.cf', nodename: 'node1' });
    expect(r.problems.map((p) => `${p.severity} ${p.code}`)).toEqual(['warning HACF_LOGD_DISABLED']);
    expect(r.value).toMatchObject({
      nodes: ['node1', 'node2'], keepaliveMs: 2000, deadtimeMs: 30000, warntimeMs: 10000, initdeadMs: 120000,
      autoFailback: 'on', udpport: 694, logfile: '/var/log/ha-log', logfacility: 'local0', useLogd: false,
      media: [{ kind: 'bcast', iface: 'eth0', port: 694, line: expect.any(Number) }],
    });
  });

  it('every commented example line of ha.cf is itself valid', () => {
    // "#keyword value" lines are examples; enabled one at a time they must not add errors.
    const text = read('ha.cf');
    const examples = text.split('\n').filter((l) => /^#[a-z_0-9]+[ \t]/.test(l)).map((l) => l.slice(1).split('#')[0] ?? '');
    expect(examples.length).toBeGreaterThan(30);
    for (const ex of examples) {
      const r = parseHaCf(`${text}\n${ex}\n`, { file: 'ha.cf', nodename: 'node1' });
      expect(r.problems.filter((p) => p.severity === 'error'), ex).toEqual([]);
    }
  });

  it('authkeys parses at mode 0600 and is refused at 0644', () => {
    const ok = parseAuthKeys(read('authkeys'), { file: 'authkeys', mode: 0o100600 });
    expect(ok.problems).toEqual([]);
    expect(ok.value?.activeNum).toBe(1);
    expect(ok.value?.keys.get(1)?.method).toBe('sha1');
    expect(parseAuthKeys(read('authkeys'), { file: 'authkeys', mode: 0o100644 }).value).toBeUndefined();
  });

  it('haresources holds the documented group', () => {
    const r = parseHaResources(read('haresources'), { file: 'haresources', nodes: ['node1', 'node2'] });
    expect(r.problems).toEqual([]);
    expect(r.value).toEqual([{
      node: 'node1', key: 'IPaddr::10.0.0.100/24/eth0', line: expect.any(Number), resources: [
        { script: 'IPaddr', args: ['10.0.0.100/24/eth0'], spec: 'IPaddr::10.0.0.100/24/eth0' },
        { script: 'Filesystem', args: ['/dev/sdb1', '/data', 'ext4'], spec: 'Filesystem::/dev/sdb1::/data::ext4' },
        { script: 'httpd', args: [], spec: 'httpd' },
      ],
    }]);
  });

  describe('loaded from disk as a directory', () => {
    const dir = mkdtempSync(join(tmpdir(), `hbsamples-${process.pid}-`));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('loads with no error once authkeys is 0600 and the scripts exist', () => {
      for (const f of ['ha.cf', 'authkeys', 'haresources']) copyFileSync(join(SAMPLES, f), join(dir, f));
      chmodSync(join(dir, 'authkeys'), 0o600);
      mkdirSync(join(dir, 'resource.d'));
      for (const s of ['IPaddr', 'Filesystem', 'httpd']) {
        writeFileSync(join(dir, 'resource.d', s), '#!/bin/sh\n');
        chmodSync(join(dir, 'resource.d', s), 0o755);
      }
      const r = loadConfiguration({ haDir: dir, nodename: 'node1', resourceDirs: [join(dir, 'resource.d')] });
      expect(r.problems.filter((p) => p.severity === 'error')).toEqual([]);
      expect(r.ok).toBe(true);
      expect(r.groups).toHaveLength(1);
    });
  });
});
