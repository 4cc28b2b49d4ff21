/**
 * One place that undoes everything a demo or benchmark run created, whatever
 * way the run ends: normal end, a thrown error, Ctrl-C, SIGTERM/SIGHUP, or
 * process exit. Actions are synchronous (signal and 'exit' handlers cannot
 * wait) and run in reverse order of registration, each at most once.
 */
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const SIGNAL_STATUS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

interface Action {
  what: string;
  run: () => void;
}

export class Cleanup {
  private readonly actions: Action[] = [];
  private installed = false;
  private running = false;
  private readonly onExit = (): void => this.runAll();
  private readonly onSignal = (sig: NodeJS.Signals): void => {
    if (this.running) return; // a second Ctrl-C while cleaning: keep cleaning
    this.say(`\n${sig} received: cleaning up…`);
    this.runAll();
    process.exit(SIGNAL_STATUS[sig] ?? 1);
  };

  constructor(private readonly say: (text: string) => void = (t) => process.stderr.write(`${t}\n`)) {}

  /** Installs the signal and exit handlers (once). */
  install(): this {
    if (this.installed) return this;
    this.installed = true;
    process.on('exit', this.onExit);
    for (const s of SIGNALS) process.on(s, this.onSignal);
    return this;
  }

  uninstall(): void {
    if (!this.installed) return;
    this.installed = false;
    process.off('exit', this.onExit);
    for (const s of SIGNALS) process.off(s, this.onSignal);
  }

  /** Registers an undo action; returns a function that runs it now (and deregisters it). */
  add(what: string, run: () => void): () => void {
    const a: Action = { what, run };
    this.actions.push(a);
    return () => {
      const i = this.actions.indexOf(a);
      if (i < 0) return;
      this.actions.splice(i, 1);
      this.runOne(a);
    };
  }

  /** Forgets an action without running it (e.g. a lab kept on purpose). */
  forget(what: string): void {
    for (let i = this.actions.length - 1; i >= 0; i--) if (this.actions[i]?.what === what) this.actions.splice(i, 1);
  }

  private runOne(a: Action): void {
    try {
      a.run();
    } catch (err) {
      this.say(`cleanup: ${a.what} failed: ${(err as Error).message}`);
    }
  }

  /** Runs every action, last registered first. */
  runAll(): void {
    if (this.running) return;
    this.running = true;
    try {
      while (this.actions.length > 0) {
        const a = this.actions.pop();
        if (a !== undefined) this.runOne(a);
      }
    } finally {
      this.running = false;
    }
  }
}
