/**
 * cl_status run in-process against a real API server (two real membership
 * cores), and against no daemon at all. Expected texts are those of
 * heartbeat 3.0.6's cl_status (spec 11.3; observed in netns labs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clStatus, USAGE } from '../../../daemon/cl_status.js';
import { atoi } from '../../../daemon/tools/cl-status-cmds.js';
import { memoryIO } from '../../../daemon/tools/common.js';
import { suiteToolSocket } from './api-fixture.js';

const LOG = /^\w{3} \d\d \d\d:\d\d:\d\d \S+ cl_status: \[\d+\]: ERROR: /;

async function run(args: string[], socketPath: string): Promise<{ code: number; out: string; err: string[] }> {
  const io = memoryIO();
  const code = await clStatus(args, { io, socketPath, env: {} });
  return { code, out: io.stdout, err: io.stderr.split('\n').filter((l) => l !== '').map((l) => l.replace(LOG, 'LOG: ')) };
}

describe('cl_status without a daemon', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hbts-cls-'));
  const none = join(dir, 'register');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the usage for no arguments and -h (exit 0), refuses unknown sub-commands (11)', async () => {
    expect(await run([], none)).toEqual({ code: 0, out: USAGE, err: [] });
    expect(await run(['-h'], none)).toEqual({ code: 0, out: USAGE, err: [] });
    expect(await run(['-help'], none)).toEqual({ code: 0, out: USAGE, err: [] });
    expect(await run(['-h', 'x'], none)).toEqual({ code: 11, out: '', err: ['LOG: -h: invalid sub-command.'] });
    expect(await run(['bogus'], none)).toEqual({ code: 11, out: '', err: ['LOG: bogus: invalid sub-command.'] });
    expect(await run(['--', 'hbstatus'], none)).toMatchObject({ code: 11 });
    expect(USAGE.split('\n')[0]).toBe('Usage: cl_status <sub-command> [<options>] [<parameters>]');
  });

  it('says heartbeat is stopped, and why with -v (exit 1)', async () => {
    expect(await run(['hbstatus'], none)).toEqual({ code: 1, out: 'Heartbeat is stopped on this machine.\n', err: [] });
    expect(await run(['hbstatus', '-v'], none)).toEqual({
      code: 1, out: "Heartbeat is stopped on this machine.\n(hb_api_signon: Can't initiate connection to heartbeat)\n", err: [],
    });
    expect(await run(['hbstatus', '--json'], none)).toMatchObject({ code: 1, out: `${JSON.stringify({ running: false, reason: "hb_api_signon: Can't initiate connection to heartbeat" })}\n` });
  });

  it('logs the signon failure for every other sub-command, whatever the arguments (exit 1)', async () => {
    for (const args of [['listnodes'], ['nodestatus'], ['hbparameter'], ['rscstatus', '-x'], ['test']]) {
      expect(await run(args, none)).toEqual({
        code: 1, out: '', err: ['LOG: Cannot signon with heartbeat', "LOG: REASON: hb_api_signon: Can't initiate connection to heartbeat"],
      });
    }
  });
});

describe('cl_status against a running daemon', () => {
  const socket = suiteToolSocket({ resources: { rscstatus: () => 'all' } });

  it('hbstatus, plain, -m and -v', async () => {
    expect(await run(['hbstatus'], socket())).toEqual({ code: 0, out: 'Heartbeat is running on this machine.\n', err: [] });
    expect(await run(['hbstatus', '-x'], socket())).toEqual({ code: 0, out: 'Heartbeat is running on this machine.\n', err: ["hbstatus: invalid option -- 'x'"] });
    expect((await run(['hbstatus', '-v'], socket())).out).toBe(
      'version:\t3.0.6 (test)\nmanaged by:\t"haresources"\n\nnode2\tactive\t(nodetype: normal)\n\teth0\tup\n\nnode1\tactive\t(nodetype: normal)\n\teth0\tup\n');
    expect((await run(['hbstatus', '-v', '-m'], socket())).out).toBe(
      'Heartbeat version 3.0.6 (test)\nResources controlled by "haresources"\nThe nodes are as follow:\n\n' +
      'node2\tactive\t(nodetype: normal)\n\tthis node has the following heartbeat links:\n\teth0\tup\n\n' +
      'node1\tactive\t(nodetype: normal)\n\tthis node has the following heartbeat links:\n\teth0\tup\n');
  });

  it('listnodes in reverse configuration order, with its options and errors', async () => {
    expect(await run(['listnodes'], socket())).toEqual({ code: 0, out: 'node2\nnode1\n', err: [] });
    expect((await run(['listnodes', '-m'], socket())).out).toBe('The nodes are as follow:\nnode2\nnode1\n');
    expect((await run(['listnodes', '-p'], socket())).out).toBe('');
    expect((await run(['listnodes', '-pn'], socket())).out).toBe('node2\nnode1\n');
    expect((await run(['listnodes', 'extra'], socket())).out).toBe('node2\nnode1\n');
    expect(await run(['listnodes', '-x'], socket())).toEqual({ code: 11, out: '', err: ["listnodes: invalid option -- 'x'", 'LOG: Error: getopt returnedcharacter code ?.'] });
    const json = JSON.parse((await run(['listnodes', '--json'], socket())).out) as unknown;
    expect(json).toEqual([
      { name: 'node2', type: 'normal', status: 'active', links: [{ name: 'eth0', status: 'up' }] },
      { name: 'node1', type: 'normal', status: 'active', links: [{ name: 'eth0', status: 'up' }] },
    ]);
  });

  it('one-node queries: values, sentences, missing and unknown nodes', async () => {
    expect(await run(['nodestatus', 'node2'], socket())).toEqual({ code: 0, out: 'active\n', err: [] });
    expect(await run(['nodestatus', 'node2', '-m'], socket())).toEqual({ code: 0, out: 'The cluster node node2 is active\n', err: [] });
    expect(await run(['nodestatus'], socket())).toEqual({ code: 11, out: '', err: ['Not enough parameters.'] });
    expect(await run(['nodestatus', 'bogus'], socket())).toEqual({ code: 11, out: '', err: ['Error. May be due to incorrect node name'] });
    expect(await run(['nodestatus', '-x', 'node2'], socket())).toEqual({ code: 11, out: '', err: ["nodestatus: invalid option -- 'x'", 'LOG: Error: getopt returnedcharacter ?.'] });
    expect(await run(['nodetype', '-m', 'node1'], socket())).toEqual({ code: 0, out: "The node node1's type: normal\n", err: [] });
    expect(await run(['nodetype'], socket())).toEqual({ code: 11, out: '', err: ['No enough parameter.'] });
    expect(await run(['nodeweight', 'node1'], socket())).toEqual({ code: 0, out: '100\n', err: [] });
    expect(await run(['nodeweight', '-m', 'node1'], socket())).toMatchObject({ out: 'The weight of the cluster node node1 is 100\n' });
    expect(await run(['nodeweight', 'bogus'], socket())).toEqual({ code: 11, out: '', err: ['Error. Maybe due to incorrect node name.'] });
    expect(await run(['nodesite', 'node1'], socket())).toEqual({ code: 0, out: '\n', err: [] });
    expect(await run(['nodesite', '-m', 'node1'], socket())).toMatchObject({ out: 'The site of the cluster node node1 is \n' });
  });

  it('links, parameters, resources, client status and the test sub-command', async () => {
    expect(await run(['listhblinks', '-v', '-m', 'node2'], socket())).toEqual({ code: 0, out: '\tthis node has the following heartbeat links:\n\teth0\tup\n', err: [] });
    expect(await run(['listhblinks', 'bogus'], socket())).toEqual({ code: 13, out: '', err: ['LOG: Cannot start heartbeat link interface walk.', 'LOG: REASON: EINVAL'] });
    expect(await run(['hblinkstatus', 'node2', 'eth0'], socket())).toEqual({ code: 0, out: 'up\n', err: [] });
    expect(await run(['hblinkstatus', '-m', 'node2', 'eth0'], socket())).toMatchObject({ out: "The node node2's heartbeat link eth0 is up\n" });
    expect(await run(['hblinkstatus', 'node2', 'eth9'], socket())).toEqual({ code: 13, out: '', err: ['LOG: Cannot get heartbeat link status', 'LOG: REASON: '] });
    expect(await run(['hbparameter', '-p', 'deadtime'], socket())).toEqual({ code: 0, out: '5\n', err: [] });
    expect(await run(['hbparameter', '-m', '-p', 'keepalive'], socket())).toMatchObject({ out: "Heartbeat parameter keepalive's value: 1\n" });
    expect(await run(['hbparameter', '-p', 'hbversion'], socket())).toMatchObject({ out: '3.0.6 (test)\n' });
    expect(await run(['hbparameter', '-p', 'nosuch'], socket())).toEqual({ code: 1, out: '', err: ["LOG: Cannot get parameter nosuch's value", 'LOG: REASON: '] });
    expect(await run(['hbparameter'], socket())).toEqual({ code: 11, out: '', err: ['LOG: parameter name required'] });
    expect(await run(['hbparameter', '-p'], socket())).toEqual({ code: 11, out: '', err: ["hbparameter: option requires an argument -- 'p'", 'LOG: Error: getopt returnedcharacter code ?.'] });
    expect(await run(['rscstatus'], socket())).toEqual({ code: 0, out: 'all\n', err: [] });
    expect(await run(['rscstatus', '-m'], socket())).toMatchObject({ out: 'This node is holding all resources.\n' });
    expect(await run(['rscstatus', '--json'], socket())).toMatchObject({ code: 0, out: '{"resources":"all"}\n' });
    expect(await run(['clientstatus', 'node2', 'ipfail', '1000'], socket())).toEqual({ code: 1, out: 'offline\n', err: [] });
    expect(await run(['clientstatus', 'node2'], socket())).toEqual({ code: 11, out: '', err: ['No enough parameter.'] });
    expect(await run(['clientstatus', 'bogus', 'ipfail', '100'], socket())).toEqual({
      code: 13, out: '', err: ["LOG: Cannot get heartbeat client ipfail's status", 'LOG: REASON: No timely response.'],
    });
    expect(await run(['test'], socket())).toEqual({ code: 0, out: 'Dead time: 5000\n keeplive time: 1000\n mynodeid: node1\n rsc: all\n', err: [] });
  });

  it('parses the clientstatus timeout as C atoi does', () => {
    expect([atoi('100'), atoi('100abc'), atoi('abc'), atoi(' -7'), atoi('+3'), atoi('99999999999')]).toEqual([100, 100, 0, -7, 3, 2147483647]);
  });
});
