/**
 * The environment of resource scripts: heartbeat's HA_* variables plus
 * HEARTBEAT_TS_HOME / HEARTBEAT_TS_NODE, which let a copy of
 * resource.d/ldirectord in /etc/ha.d/resource.d find heartbeat-ts.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { installRoot, scriptEnvironment } from '../../../daemon/resources.js';
import { resolvePaths } from '../../../daemon/paths.js';
import { parseHaCf } from '../../../lib/config/hacf.js';
import { createLogRoot } from '../../../lib/util/log.js';

const REPO = resolve(import.meta.dirname, '../../..');

function deps(): Parameters<typeof scriptEnvironment>[0] {
  const cfg = parseHaCf('node node1 node2\nbcast eth0\nlogfile /var/log/ha-log\n', { file: 'ha.cf', nodename: 'node1' }).value;
  if (cfg === undefined) throw new Error('ha.cf did not parse');
  const log = createLogRoot('heartbeat', { syslogmsgfmt: false, stderr: false, debugLevel: 0 }).logger;
  return { config: cfg, groups: [], paths: resolvePaths({}), nodename: 'node1', log };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('installRoot', () => {
  it('finds the tree holding dist/daemon/ above a start directory, or nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hbts-root-'));
    try {
      mkdirSync(join(dir, 'tree', 'dist', 'daemon'), { recursive: true });
      mkdirSync(join(dir, 'bare', 'daemon'), { recursive: true });
      expect(installRoot(join(dir, 'tree', 'dist', 'daemon'))).toBe(join(dir, 'tree'));
      expect(installRoot(join(dir, 'tree', 'daemon'))).toBe(join(dir, 'tree'));
      expect(installRoot(join(dir, 'bare', 'daemon'))).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('scriptEnvironment', () => {
  it('gives resource scripts the heartbeat-ts tree and node binary, besides heartbeat\'s HA_* variables', () => {
    vi.stubEnv('HEARTBEAT_TS_HOME', undefined);
    vi.stubEnv('HEARTBEAT_TS_NODE', undefined);
    const env = scriptEnvironment(deps());
    expect(env['HA_CURHOST']).toBe('node1');
    expect(env['HA_RESOURCEDIR']).toBe('/etc/ha.d/resource.d');
    expect(env['HEARTBEAT_TS_HOME']).toBe(REPO);
    expect(existsSync(join(env['HEARTBEAT_TS_HOME'] ?? '', 'dist/daemon/ldirectord.js'))).toBe(true);
    expect(env['HEARTBEAT_TS_NODE']).toBe(process.execPath);
  });

  it('leaves values the daemon was started with alone (they reach the scripts from its own environment)', () => {
    vi.stubEnv('HEARTBEAT_TS_HOME', '/opt/elsewhere');
    vi.stubEnv('HEARTBEAT_TS_NODE', '/opt/node/bin/node');
    const env = scriptEnvironment(deps());
    expect(env['HEARTBEAT_TS_HOME']).toBeUndefined();
    expect(env['HEARTBEAT_TS_NODE']).toBeUndefined();
  });
});
