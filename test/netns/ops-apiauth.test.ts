/**
 * apiauth: a cl_status run by a user the configuration does not allow is
 * refused, by heartbeat-ts as by Heartbeat 3.0.6 (node1 real, node2 ours,
 * `apiauth anon uid=root`, cl_status run as nobody; Debian's C cl_status is
 * also run against heartbeat-ts). The daemon decides from the kernel's view
 * of the peer, so a client cannot claim another identity.
 */
import { describe, expect, it } from 'vitest';
import { authKeys, haCf, killOurs, readLog, startOurs, startReal, stopReal, waitFor, writeHaConfig } from './harness/heartbeat.js';
import { normalizeLog, OUR_TOOLS, REAL_TOOLS, run, mixedLab, type ToolRun } from './ops-support.js';

const REAL = 1;
const OURS = 2;
const theLab = mixedLab(REAL, OURS);

/** cl_status as another user (setpriv keeps the real binary's setgid bit working). */
async function clsAs(i: number, args: string[], groups: string[] = [], tool = i === REAL ? REAL_TOOLS.cl_status : OUR_TOOLS.cl_status): Promise<ToolRun> {
  const ids = ['setpriv', '--reuid=nobody', '--regid=nogroup', ...(groups.length > 0 ? [`--groups=${groups.join(',')}`] : ['--clear-groups'])];
  const r = await run(theLab(), i, [...ids, tool, ...args]);
  return { code: r.code, stdout: r.stdout, stderr: normalizeLog(r.stderr) };
}

function configure(extra: string[]): void {
  for (const i of theLab().ids()) {
    writeHaConfig(theLab(), i, {
      hacf: haCf({ media: 'bcast', nodes: ['node1', 'node2'], keepalive: 1, deadtime: 5, initdead: 10, extra }),
      authkeys: authKeys('sha1'),
      haresources: '',
    });
  }
}

async function startBoth(): Promise<void> {
  await startReal(theLab(), REAL);
  await startOurs(theLab(), OURS);
  for (const i of [REAL, OURS]) {
    const tool = i === REAL ? REAL_TOOLS.cl_status : OUR_TOOLS.cl_status;
    await waitFor(() => run(theLab(), i, [tool, 'nodestatus', `node${3 - i}`]), { timeoutMs: 30_000, what: `node${i} sees its peer`, until: (r) => r.stdout === 'active\n' });
  }
}

async function stopBoth(): Promise<void> {
  await stopReal(theLab(), REAL);
  await killOurs(theLab(), OURS, 'SIGTERM', 30_000);
}


describe('apiauth', () => {
  it('refuses a casual client that `apiauth anon` does not list, as Heartbeat 3.0.6 does', async () => {
    configure(['apiauth anon uid=root']);
    await startBoth();
    try {
      // In haclient, so that our (not setgid) cl_status passes the 0750 run
      // directory as Debian's setgid one does: apiauth alone refuses.
      const member = ['haclient'];
      for (const args of [['hbstatus'], ['hbstatus', '-v'], ['listnodes'], ['nodestatus', 'node1'], ['hbparameter', '-p', 'keepalive']]) {
        const real = await clsAs(REAL, args, member);
        expect(await clsAs(OURS, args, member), args.join(' ')).toEqual(real);
        // Debian's own cl_status (Heartbeat's API on register) is refused by heartbeat-ts the same way
        expect(await clsAs(OURS, args, member, REAL_TOOLS.cl_status), `Debian's cl_status ${args.join(' ')}`).toEqual(real);
      }
      expect(await clsAs(OURS, ['hbstatus', '-v'], member)).toEqual({
        code: 0, stdout: 'Heartbeat is apparently running on this machine, but refuses my connection\n(client failed authorization)\n', stderr: '',
      });
      expect(await clsAs(OURS, ['listnodes'], member)).toEqual({
        code: 1, stdout: '', stderr: '<LOG> ERROR: Cannot signon with heartbeat\n<LOG> ERROR: REASON: client failed authorization\n',
      });
      expect(readLog(theLab(), OURS)).toMatch(/heartbeat: \[\d+\]: WARN: Client \[\d+\] pid \d+ failed authorization \[client failed authorization\]/);
      // root is listed
      expect((await run(theLab(), OURS, [OUR_TOOLS.cl_status, 'listnodes'])).stdout).toBe('node2\nnode1\n');
    } finally {
      await stopBoth();
    }
  }, 180_000);

  it('with the default entries: anon is root or group haclient', async () => {
    configure([]);
    await startBoth();
    try {
      // Debian's cl_status is setgid haclient, so anybody passes there; ours
      // cannot be setgid (a script), so members of haclient pass instead
      // (a supplementary group, from the kernel's connect-time record).
      expect(await clsAs(REAL, ['listnodes'])).toMatchObject({ code: 0, stdout: 'node2\nnode1\n' });
      expect(await clsAs(OURS, ['listnodes'], [], REAL_TOOLS.cl_status)).toMatchObject({ code: 0, stdout: 'node2\nnode1\n' });
      expect(await clsAs(OURS, ['listnodes'], ['haclient'])).toMatchObject({ code: 0, stdout: 'node2\nnode1\n' });
      // outside haclient, the run directory (0750 hacluster:haclient) keeps ours out
      expect(await clsAs(OURS, ['listnodes'])).toMatchObject({ code: 1, stderr: expect.stringContaining('Permission denied (only root and members of group haclient') as unknown as string });
    } finally {
      await stopBoth();
    }
  }, 180_000);
});
