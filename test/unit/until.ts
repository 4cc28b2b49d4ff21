/**
 * Waiting for something a test cannot be told about directly (a process,
 * a socket, a file): polls `cond` in real time. The bound is generous
 * (CI has two shared cores): it only decides how long a failing test takes,
 * and stays under the unit tests' 30 s timeout so the failure names what it waited for.
 */
export const UNTIL_MS = 25_000;

export async function until(what: string, cond: () => boolean, timeoutMs = UNTIL_MS): Promise<void> {
  await untilValue(what, () => (cond() ? true : undefined), timeoutMs);
}

/** Like until(), returning the first value `f` gives that is not undefined. */
export async function untilValue<T>(what: string, f: () => T | undefined, timeoutMs = UNTIL_MS): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
