/**
 * Debian's own libhbclient programs against the API server of a heartbeat-ts
 * core (two cores on an in-process segment): each runs in a private mount
 * namespace where the test node's run directory is mounted over
 * /run/heartbeat, the path compiled into the library. api_test signs on as
 * `ping`, reads parameters, walks nodes and links, asks client status,
 * sends `ping` to the cluster and answers its own pings through the daemon.
 */
import { spawn } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { apiLab, HACF, type ApiLab } from './api-fixture.js';

let lab: ApiLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

/**
 * Runs `command` (shell) with the node's run directory as /run/heartbeat until
 * its output matches `until` (or 30 s pass), then stops it; returns the output.
 */
function inRunDir(l: ApiLab, i: number, command: string, until: RegExp): Promise<string> {
  chmodSync(l.dir, 0o755);
  const run = l.nodes[i]!.paths.runDir;
  const p = spawn('unshare', ['-m', 'sh', '-c', `mount --bind ${run} /run/heartbeat && exec timeout 30 ${command} 2>&1`], { detached: true });
  let out = '';
  return new Promise((resolve) => {
    const stop = (): void => {
      try {
        process.kill(-(p.pid ?? 0), 'SIGTERM');
      } catch {
        /* already gone */
      }
    };
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (until.test(out)) stop();
    });
    p.on('exit', () => resolve(out));
  });
}

describe("Debian's libhbclient programs against heartbeat-ts", () => {
  it('api_test signs on, walks the cluster and exchanges messages through the daemon', async () => {
    lab = await apiLab({ text: `${HACF}apiauth ping uid=root\n` });
    const l = lab;
    // the cores' clock runs while api_test talks to them
    const tick = setInterval(() => l.clock.advance(500), 100);
    const out = await inRunDir(l, 0, '/usr/libexec/heartbeat/api_test', /type \[pingreply\]/).finally(() => clearInterval(tick));
    const body = out.replace(/^.*api_test: \[\d+\]: /gm, '');
    expect(body).toContain('info: Parameter keepalive is [1]');
    expect(body).toContain('info: Cluster node: node2: status: active');
    expect(body).toContain('info: \tnode node2: intf: eth0 ifstatus: up');
    expect(body).toContain('info: node1/api_test status: [online]');
    expect(body).toContain('notice: Status update: Client node1/ping now has status [join]');
    expect(body).toMatch(/notice: Got message \d+ of type \[pingreply\] from \[node1\]/);
    expect(body).not.toMatch(/Cannot sign ?on|ERROR: .*REASON/);
  }, 60_000);
});
