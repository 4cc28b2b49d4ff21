/**
 * `cl_status <sub-command> --json`: one JSON document per run, the field names
 * the README documents, errors as a JSON document with the text output's exit
 * code; against a real API server (two real membership cores) and no daemon.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clStatus } from '../../../daemon/cl_status.js';
import { memoryIO } from '../../../daemon/tools/common.js';
import { JSON_COMMANDS } from '../../../daemon/tools/cl-status-cmds.js';
import { suiteToolSocket } from './api-fixture.js';

async function json(args: string[], socketPath: string): Promise<{ code: number; doc: unknown; lines: number; stderr: string }> {
  const io = memoryIO();
  const code = await clStatus(args, { io, socketPath, env: {} });
  const lines = io.stdout.split('\n').filter((l) => l !== '');
  return { code, doc: JSON.parse(io.stdout) as unknown, lines: lines.length, stderr: io.stderr };
}

const err = (exitCode: number, ...messages: string[]) => ({ error: { exitCode, messages } });

describe('cl_status --json without a daemon', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hbts-clsj-'));
  const none = join(dir, 'register');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('covers every documented sub-command', () => {
    expect([...JSON_COMMANDS].sort()).toEqual(['clientstatus', 'hblinkstatus', 'hbparameter', 'hbstatus', 'listhblinks', 'listnodes',
      'nodesite', 'nodestatus', 'nodetype', 'nodeweight', 'rscstatus']);
  });

  it('reports the failed signon as an error document, exit 1, stderr as 3.0.6', async () => {
    for (const args of [['listnodes', '--json'], ['nodestatus', 'node1', '--json'], ['hbparameter', '--json', '-p', 'x'], ['clientstatus', '--json']]) {
      const r = await json(args, none);
      expect(r.code).toBe(1);
      expect(r.doc).toEqual(err(1, 'Cannot signon with heartbeat', "REASON: hb_api_signon: Can't initiate connection to heartbeat"));
      expect(r.stderr).toMatch(/cl_status: \[\d+\]: ERROR: Cannot signon with heartbeat\n/);
    }
  });

  it('an unknown sub-command with --json is an error document too (exit 11)', async () => {
    expect(await json(['bogus', '--json'], none)).toMatchObject({ code: 11, doc: err(11, 'bogus: invalid sub-command.') });
  });
});

describe('cl_status --json against a running daemon', () => {
  const socket = suiteToolSocket({ resources: { rscstatus: () => 'local' } });

  it('hbstatus and listnodes (options keep filtering)', async () => {
    const links = [{ name: 'eth0', status: 'up' }];
    const nodes = [{ name: 'node2', type: 'normal', status: 'active', links }, { name: 'node1', type: 'normal', status: 'active', links }];
    expect(await json(['hbstatus', '--json'], socket())).toEqual({
      code: 0, lines: 1, stderr: '', doc: { running: true, version: '3.0.6 (test)', managedBy: 'haresources', node: 'node1', nodes },
    });
    expect(await json(['listnodes', '-v', '--json'], socket())).toMatchObject({ code: 0, lines: 1, doc: nodes });
    expect(await json(['listnodes', '-p', '--json'], socket())).toMatchObject({ code: 0, doc: [] });
  });

  it('one-node queries, with their errors', async () => {
    expect(await json(['nodestatus', '--json', 'node2'], socket())).toMatchObject({ code: 0, lines: 1, doc: { node: 'node2', status: 'active' } });
    expect(await json(['nodestatus', '-m', 'node2', '--json'], socket())).toMatchObject({ code: 0, doc: { node: 'node2', status: 'active' } });
    expect(await json(['nodetype', 'node1', '--json'], socket())).toMatchObject({ code: 0, doc: { node: 'node1', type: 'normal' } });
    expect(await json(['nodeweight', 'node1', '--json'], socket())).toMatchObject({ code: 0, doc: { node: 'node1', weight: 100 } });
    expect(await json(['nodesite', 'node1', '--json'], socket())).toMatchObject({ code: 0, doc: { node: 'node1', site: '' } });
    expect(await json(['nodestatus', '--json'], socket())).toMatchObject({ code: 11, doc: err(11, 'Not enough parameters.') });
    expect(await json(['nodestatus', 'bogus', '--json'], socket())).toMatchObject({ code: 11, doc: err(11, 'Error. May be due to incorrect node name') });
    expect(await json(['nodetype', '-x', '--json'], socket())).toMatchObject({
      code: 11, doc: err(11, "nodetype: invalid option -- 'x'", 'Error: getopt returnedcharacter ?.'),
    });
  });

  it('links, client status, parameters and resources', async () => {
    const links = [{ name: 'eth0', status: 'up' }];
    expect(await json(['listhblinks', 'node2', '--json'], socket())).toMatchObject({ code: 0, lines: 1, doc: { node: 'node2', links } });
    expect(await json(['listhblinks', 'bogus', '--json'], socket())).toMatchObject({
      code: 13, doc: err(13, 'Cannot start heartbeat link interface walk.', 'REASON: EINVAL'),
    });
    expect(await json(['hblinkstatus', 'node2', 'eth0', '--json'], socket())).toMatchObject({ code: 0, doc: { node: 'node2', link: 'eth0', status: 'up' } });
    expect(await json(['hblinkstatus', 'node2', 'eth9', '--json'], socket())).toMatchObject({ code: 13, doc: err(13, 'Cannot get heartbeat link status', 'REASON: ') });
    expect(await json(['clientstatus', 'node2', 'ipfail', '1000', '--json'], socket())).toMatchObject({
      code: 1, doc: { node: 'node2', client: 'ipfail', status: 'offline' },
    });
    expect(await json(['hbparameter', '-p', 'deadtime', '--json'], socket())).toMatchObject({ code: 0, doc: { name: 'deadtime', value: '5' } });
    expect(await json(['hbparameter', '--json', '-p', 'nosuch'], socket())).toMatchObject({
      code: 1, doc: err(1, "Cannot get parameter nosuch's value", 'REASON: '),
    });
    expect(await json(['rscstatus', '--json'], socket())).toMatchObject({ code: 0, lines: 1, doc: { resources: 'local' } });
  });

  it('--json after -- is an operand, as getopt reads it', async () => {
    const io = memoryIO();
    expect(await clStatus(['nodestatus', '--', '--json'], { io, socketPath: socket(), env: {} })).toBe(11);
    expect(io.stdout).toBe('');
  });
});
