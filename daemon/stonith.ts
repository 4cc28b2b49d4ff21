/**
 * The STONITH devices of ha.cf, reached the way Heartbeat 3.0.6 reaches
 * them: through cluster-glue's plugins (Debian's `cluster-glue` package),
 * here by its `stonith` command, so every plugin it ships (external/ipmi,
 * external/libvirt, external/ssh, meatware, null, suicide, …) works as it
 * is. Devices are tried in ha.cf order; the first that resets the node
 * wins. `meatware` waits for the operator's `meatclient -c NODE` however
 * long that takes; other devices get STONITH_TIMEOUT_MS.
 */
import { execFile } from 'node:child_process';
import type { StonithDevice } from '../lib/config/types.js';
import type { Fencer, FenceResult } from '../lib/resources/fencing.js';
import { escapeLogText } from '../lib/util/log.js';
import type { Logger } from '../lib/util/log.js';

export const STONITH_TIMEOUT_MS = 120_000;
/** cluster-glue's S_BADHOST: the device does not control that host. */
const S_BADHOST = 4;
const MAX_OUTPUT_LINES = 5;

export interface StonithCommandOptions {
  log: Logger;
  /** The `stonith` program (tests: a path inside the lab node). */
  command?: string;
  timeoutMs?: number;
}

/** `stonith -t TYPE {-p PARAMS | -F FILE} -T reset NODE`. */
export function stonithArgv(d: StonithDevice, node: string): string[] {
  const params = d.configFile !== undefined ? ['-F', d.configFile] : ['-p', d.params ?? ''];
  return ['-t', d.type, ...params, '-T', 'reset', node];
}

export class StonithCommandFencer implements Fencer {
  readonly description: string;

  constructor(private readonly devices: readonly StonithDevice[], private readonly o: StonithCommandOptions) {
    this.description = devices.map((d) => d.type).join(', ');
  }

  async reset(node: string): Promise<FenceResult> {
    let result: FenceResult = 'badhost';
    for (const d of this.devices) {
      const code = await this.run(d, node);
      if (code === 0) return 'OK';
      if (code !== S_BADHOST) result = 'bad';
    }
    return result;
  }

  private run(d: StonithDevice, node: string): Promise<number> {
    const timeout = d.type === 'meatware' ? 0 : (this.o.timeoutMs ?? STONITH_TIMEOUT_MS);
    return new Promise((resolve) => {
      execFile(this.o.command ?? 'stonith', stonithArgv(d, node), { timeout, killSignal: 'SIGKILL', encoding: 'utf8' }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        if (code !== 0) {
          const why = err?.killed === true ? `no answer within ${timeout / 1000} s` : `exit ${code}`;
          this.o.log.error(`STONITH device ${d.type} (ha.cf:${d.line}) could not reset ${node}: ${why}`);
          for (const line of `${stdout}${stderr}`.split('\n').filter((l) => l.trim() !== '').slice(0, MAX_OUTPUT_LINES)) {
            this.o.log.error(`  ${escapeLogText(line.slice(0, 300))}`);
          }
        }
        resolve(code);
      });
    });
  }
}
