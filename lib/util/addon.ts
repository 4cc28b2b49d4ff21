/**
 * Finding and loading the project's Node-API addons (native/*.c, built by
 * node-gyp from the package's install script into native/build/Release).
 * Searched upwards from this file, so the same code works from lib/ (tests)
 * and from dist/lib/ (the daemon). Node caches a loaded addon.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HbError } from './errors.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The compiled addon's path (`native/build/Release/<name>.node`) above `start`; undefined when not built. */
export function findAddon(name: string, start: string = here): string | undefined {
  const rel = join('native', 'build', 'Release', `${name}.node`);
  let dir = start;
  for (;;) {
    const candidate = join(dir, rel);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Loads addon `name`; throws HbError `<CODE>_ADDON_MISSING` / `<CODE>_ADDON_LOAD`
 * (codePrefix names the feature, e.g. ICMP) with what to run to build it.
 */
export function loadAddon<T>(name: string, codePrefix: string, what: string): T {
  const path = findAddon(name);
  if (path === undefined) {
    throw new HbError(
      `${codePrefix}_ADDON_MISSING`,
      `the ${what} addon is not built (no native/build/Release/${name}.node above ${here}); `
        + 'run `npm ci` (or `node native/build.mjs`) to build it',
    );
  }
  try {
    return createRequire(import.meta.url)(path) as T;
  } catch (err) {
    throw new HbError(`${codePrefix}_ADDON_LOAD`, `cannot load the ${what} addon ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** `EPERM` for 1, and so on; `errno N` for numbers Node does not name. */
export function errnoName(errno: number): string {
  for (const [n, value] of Object.entries(constants.errno)) if (value === errno) return n;
  return `errno ${errno}`;
}

