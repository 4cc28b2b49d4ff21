/**
 * vitest globalSetup: removes netns labs whose test process died (SIGKILL,
 * OOM, a crashed worker) before the run and again after it. Labs of live
 * processes — other runs in progress — are left alone.
 */
import { Lab } from './lab.js';

function sweep(when: string): void {
  try {
    const swept = Lab.sweepStale();
    if (swept.length > 0) console.warn(`netns harness (${when}): removed stale labs ${swept.join(' ')}`);
  } catch (err) {
    console.warn(`netns harness (${when}): stale-lab sweep failed: ${(err as Error).message}`);
  }
}

export default function setup(): () => void {
  sweep('before the run');
  return () => sweep('after the run');
}
