import { mkdtempSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../lib/util/log.js';
import { describeTable, type DataPlane, type PlaneTable } from '../../../lib/ldirectord/plane.js';
import { LdRuntime, loadConfig } from '../../../lib/ldirectord/runtime.js';
import { NftPlane } from '../../../lib/ldirectord/nft-plane.js';

const dir = mkdtempSync(join(tmpdir(), 'ldrt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class RecordingPlane implements DataPlane {
  readonly name = 'nftables' as const;
  last: PlaneTable = [];
  validate() { return []; }
  async apply(t: PlaneTable) { this.last = structuredClone(t); return []; }
  async clear() { this.last = []; }
}

const until = async (fn: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 50));
  }
};

const conf = (autoreload: boolean, reals: string[]) =>
  `autoreload=${autoreload ? 'yes' : 'no'}\nvirtual=10.0.0.1:80\n${reals.map((r) => `  real=${r}:80 masq\n`).join('')}  checktype=on\n`;

async function startWith(file: string, text: string) {
  writeFileSync(file, text);
  const log = memoryLogger();
  const plane = new RecordingPlane();
  const loaded = await loadConfig(file, { plane, logger: log });
  if (!loaded.config) throw new Error(JSON.stringify(loaded.problems));
  const rt = await LdRuntime.start({ file, logger: log, plane, watchMs: 50 }, { ...loaded, config: loaded.config });
  return { rt, log, plane };
}

/** Rewrites a file so that its mtime surely changes. */
function rewrite(file: string, text: string): void {
  writeFileSync(file, text);
  const t = new Date(Date.now() + 5000);
  utimesSync(file, t, t);
}

describe('configuration reload', () => {
  it('autoreload=yes picks up a changed file', async () => {
    const file = join(dir, 'auto.cf');
    const { rt, log, plane } = await startWith(file, conf(true, ['10.0.1.1']));
    expect(describeTable(plane.last)).toEqual(['tcp:10.0.0.1:80 wrr: 10.0.1.1:80/masq/w1']);
    rewrite(file, conf(true, ['10.0.1.1', '10.0.1.2']));
    await until(() => plane.last[0]?.reals.length === 2);
    expect(log.lines).toEqual(expect.arrayContaining([
      `info: Configuration file '${file}' has changed on disk`, 'info:  - reread new configuration',
      'info: Added real server: 10.0.1.2:80 (10.0.0.1:80) (Weight set to 1)',
    ]));
    // a broken file keeps the running configuration
    rewrite(file, `${conf(true, ['10.0.1.1'])}  scheduler=nope\n`);
    await until(() => log.lines.some((l) => l.includes('Configuration not reloaded')));
    expect(log.lines).toEqual(expect.arrayContaining([expect.stringMatching(/Error reading file .* at line 5: unknown scheduler "nope"/)]));
    expect(plane.last[0]?.reals).toHaveLength(2);
    await rt.stop();
  });

  it('autoreload=no logs the change and ignores it; an explicit reload applies it', async () => {
    const file = join(dir, 'manual.cf');
    const { rt, log, plane } = await startWith(file, conf(false, ['10.0.1.1']));
    rewrite(file, conf(false, ['10.0.1.3']));
    await until(() => log.lines.includes('info:  - ignore new configuration'));
    expect(plane.last[0]?.reals.map((r) => r.address)).toEqual(['10.0.1.1']);
    await rt.reload('Reloading Linux Director Daemon config on signal');
    expect(plane.last[0]?.reals.map((r) => r.address)).toEqual(['10.0.1.3']);
    await rt.stop();
  });

  it('loadConfig adds the data plane\'s objections with lines', async () => {
    const file = join(dir, 'ipvsonly.cf');
    writeFileSync(file, 'virtual=10.0.0.1:80\n  real=10.0.1.1:80 masq\n  scheduler=lc\n');
    const log = memoryLogger();
    const r = await loadConfig(file, { plane: new NftPlane({ logger: log }), logger: log });
    expect(r.config).toBeUndefined();
    expect(r.problems).toEqual([expect.objectContaining({ file, line: 3, code: 'LDCF_IPVS_ONLY' })]);
    const missing = await loadConfig(join(dir, 'nope.cf'), { logger: log });
    expect(missing.problems[0]).toMatchObject({ code: 'LDCF_UNREADABLE', line: 0 });
  });
});
