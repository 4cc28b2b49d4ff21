/**
 * heartbeat's rule for finding a resource or hook script: a regular,
 * executable file of that plain name (no path) in the first of the
 * directories that has one (resource.d, then init.d; rc.d for hooks).
 */
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';

export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The path of script `name` in `dirs`, or undefined (also for names with a path or `.`/`..`). */
export function findScript(dirs: readonly string[], name: string): string | undefined {
  if (name.includes('/') || name === '' || name === '.' || name === '..') return undefined;
  for (const dir of dirs) {
    const path = join(dir, name);
    if (isExecutableFile(path)) return path;
  }
  return undefined;
}
