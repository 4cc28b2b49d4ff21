/**
 * `watchdog <device>` of ha.cf, as Heartbeat 3.0.6 drives it: the device is
 * opened when the node starts, one byte is written each time our own status
 * (a heartbeat) goes out, so a stalled daemon stops feeding it and the
 * kernel resets the machine; after the node's last status on a clean stop
 * the magic character 'V' disarms it before it is closed. A write that
 * fails closes the device (the machine is then unprotected: said at ERROR).
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import type { Cluster } from '../lib/membership/cluster.js';
import { describeError } from '../lib/util/errors.js';
import type { Logger } from '../lib/util/log.js';
import type { Attachment, NodeHandle } from '../lib/node/runtime.js';

const FEED = Buffer.from([0]);
const MAGIC_CLOSE = Buffer.from('V');

export class WatchdogAttachment implements Attachment {
  readonly name = 'watchdog';
  private fd: number | undefined;
  private cluster: Cluster | undefined;
  private readonly feed = (): void => {
    this.write(FEED, 'Watchdog write failure');
  };

  constructor(private readonly device: string, private readonly log: Logger) {}

  start(node: NodeHandle): void {
    try {
      // O_NONBLOCK: a device never blocks a writer; a stand-in FIFO must not either (Node adds O_CLOEXEC).
      this.fd = openSync(this.device, constants.O_WRONLY | constants.O_NONBLOCK);
      this.log.info(`Using watchdog device: ${this.device}`);
    } catch (err) {
      this.log.error(`Cannot open watchdog device: ${this.device}: ${describeError(err)}`);
      return;
    }
    this.rebind(node);
    this.feed();
  }

  rebind(node: NodeHandle): void {
    this.cluster?.off('statusSent', this.feed);
    this.cluster = node.cluster;
    this.cluster.on('statusSent', this.feed);
  }

  /** Feeding goes on while the resources are given up: the last statuses still feed it. */
  async shutdown(): Promise<void> {}

  /** After the last status: the magic close, then close. */
  silenced(): void {
    this.cluster?.off('statusSent', this.feed);
    this.cluster = undefined;
    if (this.fd === undefined) return;
    if (this.write(MAGIC_CLOSE, 'Watchdog write magic character failure')) this.log.debug("Successful watchdog 'V' write");
    this.close();
  }

  private write(data: Buffer, failure: string): boolean {
    if (this.fd === undefined) return false;
    try {
      if (writeSync(this.fd, data) === data.length) return true;
    } catch {
      // reported below, like a short write
    }
    this.log.error(`${failure}: closing ${this.device}!`);
    this.close();
    return false;
  }

  private close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
      this.log.debug('Successful watchdog close');
    } catch (err) {
      this.log.error(`Watchdog close(2) failed: ${describeError(err)}`);
    }
    this.fd = undefined;
  }
}
