/**
 * The lab's last line of cleanup: on process exit or a fatal signal, run the
 * owner's teardown once, so a crashed or interrupted test leaves no
 * namespaces behind. Signals are re-raised afterwards so their default
 * action (exit) still happens when nobody else listens.
 */
const SAFETY_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export class SafetyNet {
  private handlers: { onExit: () => void; onSignal: (sig: NodeJS.Signals) => void } | undefined;

  constructor(private readonly teardown: () => void) {}

  install(): void {
    if (this.handlers !== undefined) return;
    const onExit = (): void => this.teardown();
    const onSignal = (sig: NodeJS.Signals): void => {
      this.remove();
      this.teardown();
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    // One net per lab, and a benchmark runs 18 labs at once: each listener is meant, not a leak.
    const wanted = Math.max(...(['exit', ...SAFETY_SIGNALS] as const).map((e) => process.listenerCount(e))) + 1;
    if (process.getMaxListeners() !== 0 && process.getMaxListeners() < wanted) process.setMaxListeners(wanted);
    process.on('exit', onExit);
    for (const s of SAFETY_SIGNALS) process.on(s, onSignal);
    this.handlers = { onExit, onSignal };
  }

  remove(): void {
    if (this.handlers === undefined) return;
    process.off('exit', this.handlers.onExit);
    for (const s of SAFETY_SIGNALS) process.off(s, this.handlers.onSignal);
    this.handlers = undefined;
  }
}
