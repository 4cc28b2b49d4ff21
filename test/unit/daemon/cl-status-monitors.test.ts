/**
 * `cl_status rscstatus -v [--json]` (heartbeat-ts.cf monitoring): the
 * holdings line, then one line per monitored resource with its failure
 * count and last failure; `--json` the same as fields. Without `-v` the
 * output is 3.0.6's. Against a real API server.
 */
import { describe, expect, it } from 'vitest';
import { clStatus } from '../../../daemon/cl_status.js';
import { memoryIO } from '../../../daemon/tools/common.js';
import type { MonitorEntry } from '../../../lib/resources/monitor.js';
import { suiteToolSocket } from './api-fixture.js';

const ENTRY: MonitorEntry = {
  resource: 'httpd', group: 'IPaddr::10.0.0.100', onFail: 'restart', intervalMs: 2000, timeoutMs: 5000,
  maxFailures: 3, failureWindowMs: 600_000, failures: 2, lastFailure: { atMs: Date.UTC(2026, 11, 4, 1, 2, 3), reason: 'status says not running' },
};

async function run(args: string[], socketPath: string): Promise<{ code: number; out: string }> {
  const io = memoryIO();
  const code = await clStatus(args, { io, socketPath, env: {} });
  return { code, out: io.stdout };
}

describe('cl_status rscstatus -v', () => {
  const socket = suiteToolSocket({ resources: { rscstatus: () => 'local', monitors: () => [ENTRY, { ...ENTRY, resource: 'IPaddr::10.0.0.100', failures: 0, lastFailure: null }] } });
  const bare = suiteToolSocket({ resources: { rscstatus: () => 'all' } });

  it('lists the monitored resources with their counts after the holdings', async () => {
    expect(await run(['rscstatus', '-v'], socket())).toEqual({ code: 0, out: 'local\n'
      + 'monitor httpd (group IPaddr::10.0.0.100): 2 of 3 failures within 600s (interval 2s, timeout 5s, on-fail restart); last failure 2026-12-04T01:02:03.000Z: status says not running\n'
      + 'monitor IPaddr::10.0.0.100 (group IPaddr::10.0.0.100): 0 of 3 failures within 600s (interval 2s, timeout 5s, on-fail restart); never failed\n' });
    expect(await run(['rscstatus', '-m', '-v'], socket())).toMatchObject({ code: 0, out: expect.stringMatching(/^This node is holding local resources\.\nmonitor httpd /) });
  });

  it('--json gives the same as fields; without -v the 3.0.6 output', async () => {
    const r = await run(['rscstatus', '-v', '--json'], socket());
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ resources: 'local', monitors: [ENTRY, { ...ENTRY, resource: 'IPaddr::10.0.0.100', failures: 0, lastFailure: null }] });
    expect(await run(['rscstatus'], socket())).toEqual({ code: 0, out: 'local\n' });
    expect(JSON.parse((await run(['rscstatus', '--json'], socket())).out)).toEqual({ resources: 'local' });
  });

  it('no heartbeat-ts.cf: -v adds nothing', async () => {
    expect(await run(['rscstatus', '-v'], bare())).toEqual({ code: 0, out: 'all\n' });
    expect(JSON.parse((await run(['rscstatus', '-v', '--json'], bare())).out)).toEqual({ resources: 'all', monitors: [] });
  });
});
