/**
 * Local users against a running node (issue 17): node1 runs heartbeat-ts
 * through its init script, node2 Debian's Heartbeat 3.0.6 through its own;
 * an unprivileged user (`setpriv` to nobody, in haclient or not) attacks
 * both. Directories, FIFO, state and pid files must be at least as tight as
 * 3.0.6's; the API must stay usable for root under abuse, and a forged pid
 * file must never make a resource script kill a process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiSocketPath, toolSocketPath, resolvePaths } from '../../daemon/paths.js';
import { authKeys, haCf, logSize, readLog, waitFor, writeHaConfig } from './harness/heartbeat.js';
import { Lab, type NodeProcess, labUp } from './harness/lab.js';
import { OUR_INIT_ENV, OUR_TOOLS, REAL_TOOLS, run, teardownMixed } from './ops-support.js';
import { rscIn } from './resource-support.js';

const OURS = 1;
const REAL = 2;
const NOBODY = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
const NOBODY_IN_HACLIENT = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--groups=haclient'];
const SOCKET = toolSocketPath(resolvePaths({}));
/** Heartbeat's API socket, which 3.0.6 has too. */
const REGISTER = apiSocketPath(resolvePaths({}));
let lab: Lab | undefined;
const spawned: NodeProcess[] = [];
const theLab = (): Lab => labUp(lab);

/** `mode user group type` of each path in node i ('-' when absent). */
async function modes(i: number, paths: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of paths) {
    const r = await theLab().exec(i, ['stat', '-c', '%a %U %G %F', p]);
    out[p] = r.code === 0 ? r.stdout.trim() : '-';
  }
  return out;
}

beforeAll(async () => {
  lab = await Lab.up({ nodes: 2 });
  for (const i of lab.ids()) {
    writeHaConfig(lab, i, {
      hacf: haCf({ media: 'bcast', nodes: ['node1', 'node2'], keepalive: 1, deadtime: 5, initdead: 10 }),
      authkeys: authKeys('sha1'),
      haresources: '',
    });
  }
  const [ours, real] = await Promise.all([
    run(lab, OURS, [OUR_TOOLS.init, 'start'], OUR_INIT_ENV),
    run(lab, REAL, [REAL_TOOLS.init, 'start']),
  ]);
  expect([ours.stdout, real.stdout]).toEqual(['Starting High-Availability services: Done.\n\n', 'Starting High-Availability services: Done.\n\n']);
  for (const i of [OURS, REAL]) {
    const tool = i === OURS ? OUR_TOOLS.cl_status : REAL_TOOLS.cl_status;
    await waitFor(() => run(theLab(), i, [tool, 'nodestatus', `node${3 - i}`]), { timeoutMs: 60_000, what: `node${i} sees its peer`, until: (r) => r.stdout === 'active\n' });
  }
}, 180_000);

afterAll(async () => {
  for (const p of spawned) p.kill('SIGKILL');
  await teardownMixed(lab, REAL, OURS);
}, 120_000);

describe('local users: heartbeat-ts vs Heartbeat 3.0.6', () => {
  it('creates the run directory, rsctmp, FIFO, state and pid files with 3.0.6\'s modes and owners', async () => {
    const paths = [
      '/var/run/heartbeat', REGISTER, '/var/run/heartbeat/rsctmp', '/run/resource-agents',
      '/var/lib/heartbeat', '/var/lib/heartbeat/fifo', '/var/lib/heartbeat/hb_generation', '/var/lib/heartbeat/hb_uuid', '/var/run/heartbeat.pid',
    ];
    const [ours, real] = await Promise.all([modes(OURS, paths), modes(REAL, paths)]);
    expect(ours).toEqual(real);
    expect(ours['/var/run/heartbeat']).toBe('750 hacluster haclient directory');
    expect(ours['/var/run/heartbeat/rsctmp']).toBe('1755 root root directory');
    // heartbeat-ts's own tool socket follows register's mode and owner
    expect((await modes(OURS, [SOCKET]))[SOCKET]).toBe(ours[REGISTER]);
    // 3.0.6 hands its logs to hacluster; ours stay root's (tighter)
    expect((await modes(OURS, ['/var/log/ha-log']))['/var/log/ha-log']).toBe('644 root root regular file');
  }, 60_000);

  it('keeps a user outside haclient out of the run directory and rsctmp (EACCES), as 3.0.6 does', async () => {
    const connect = `require('net').connect(${JSON.stringify(SOCKET)}).on('error',e=>{console.log(e.code)}).on('connect',()=>{console.log('connected');process.exit(0)})`;
    for (const i of [OURS, REAL]) {
      expect((await run(theLab(), i, [...NOBODY, 'ls', '/var/run/heartbeat'])).stderr, `node${i}`).toMatch(/Permission denied/);
      expect((await run(theLab(), i, [...NOBODY, process.execPath, '-e', connect])).stdout, `node${i}`).toBe('EACCES\n');
      const forge = await run(theLab(), i, [...NOBODY_IN_HACLIENT, 'sh', '-c', 'echo 1 > /var/run/heartbeat/rsctmp/send_arp-10.77.0.100']);
      expect(forge.code, `node${i}`).not.toBe(0);
      expect(forge.stderr, `node${i}`).toMatch(/Permission denied/);
    }
    // our cl_status as that user says why rather than that heartbeat is stopped
    const cls = await run(theLab(), OURS, [...NOBODY, OUR_TOOLS.cl_status, 'hbstatus', '-v']);
    expect(cls.stdout).toMatch(/^Heartbeat is apparently running on this machine, but refuses my connection\n\(.*Permission denied.*\)\n$/);
  }, 60_000);

  it('keeps root\'s cl_status working next to 200 idle connections of a haclient member', async () => {
    const hog = `const net=require('net');let n=0;for(let i=0;i<200;i++){net.connect(${JSON.stringify(SOCKET)}).on('error',()=>{}).on('connect',()=>{if(++n===200)console.log('connected')})}`;
    const p = await theLab().spawn(OURS, [...NOBODY_IN_HACLIENT, process.execPath, '-e', hog]);
    spawned.push(p);
    try {
      await new Promise((r) => setTimeout(r, 3000));
      const r = await run(theLab(), OURS, [OUR_TOOLS.cl_status, 'hbstatus']);
      expect(r.stdout).toBe('Heartbeat is running on this machine.\n');
    } finally {
      p.kill('SIGKILL');
    }
  }, 60_000);

  it('does not let 2,865 bad requests grow ha-log, nor an op forge a log line', async () => {
    const before = logSize(theLab(), OURS);
    const flood = `const s=require('net').connect(${JSON.stringify(SOCKET)});s.on('error',()=>{});let n=0;` +
      `const op='x\\nCRIT: Resource STOP failure. Reboot required!\\n'+'y'.repeat(60000);` +
      `s.on('connect',()=>{const more=()=>{while(n<2865){if(!s.write(JSON.stringify({id:n++,op})+'\\n'))return s.once('drain',more)}};more()});` +
      `s.on('close',()=>{console.log('closed after '+n);process.exit(0)});setTimeout(()=>{console.log('open after '+n);process.exit(0)},30000);`;
    const r = await run(theLab(), OURS, [...NOBODY_IN_HACLIENT, process.execPath, '-e', flood]);
    expect(r.stdout).toMatch(/^closed after \d+\n$/);
    await new Promise((res) => setTimeout(res, 1000));
    const grown = logSize(theLab(), OURS) - before;
    expect(grown).toBeLessThan(16 * 1024);
    const log = readLog(theLab(), OURS);
    expect(log).not.toMatch(/^CRIT: Resource STOP failure/m);
    expect(log).toMatch(/too many bad requests from uid 65534: disconnected/);
  }, 90_000);

  it('never believes a pid file someone else wrote: a forged send_arp pid in a world-writable HA_RSCTMP kills nothing', async () => {
    const l = theLab();
    const dir = '/tmp/rsctmp-shared';
    expect((await l.exec(OURS, ['sh', '-c', `rm -rf ${dir} && mkdir -m 1777 ${dir}`])).code).toBe(0);
    // a root process of the node, by its pid inside the node's pid namespace
    const victimPid = (await l.exec(OURS, ['sh', '-c', 'sleep 300 </dev/null >/dev/null 2>&1 & echo $!'])).stdout.trim();
    expect(victimPid).toMatch(/^\d+$/);
    const vip = `${l.subnet}.100`;
    const forged = await l.exec(OURS, [...NOBODY, 'sh', '-c', `echo ${victimPid} > ${dir}/send_arp-${vip}`]);
    expect(forged.code).toBe(0);
    const env = { HA_RSCTMP: dir, HB_ARP_COUNT: '1' };
    try {
      expect((await rscIn(l, OURS, `IPaddr::${vip}/24/eth0`, 'start', env)).code).toBe(0);
      expect((await l.exec(OURS, ['kill', '-0', victimPid])).code).toBe(0);
      // the forged file was replaced by ours (or already removed by the finished burst)
      expect((await l.exec(OURS, ['sh', '-c', `stat -c %U ${dir}/send_arp-${vip} 2>/dev/null; true`])).stdout).toMatch(/^(root\n)?$/);
    } finally {
      await rscIn(l, OURS, `IPaddr::${vip}/24/eth0`, 'stop', env);
      await l.exec(OURS, ['kill', '-9', victimPid]);
    }
  }, 90_000);
});
