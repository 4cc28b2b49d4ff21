/**
 * Lab bookkeeping the netns tests inspect, from devtools/lab (state.ts and
 * teardown.ts), under the names this module has always exported.
 */
import { basename } from 'node:path';
import { CLEAN_PATH, labHealth, type Owner, readState, STATE_FILE, stateDirOf } from '../../../devtools/lab/state.js';
import { destroyLab } from '../../../devtools/lab/teardown.js';

export { CLEAN_PATH, existingLabNames, LAB_NAME_RE, labNamespaces, type Owner, STATE_ROOT } from '../../../devtools/lab/state.js';

/** The file that names a lab's owner (pid + start time): its lab.json. */
export const OWNER_FILE = STATE_FILE;

/** Environment for lab commands: a clean PATH and the lab's identity, nothing else from the caller. */
export function labEnv(name: string, stateDir: string = stateDirOf(name), extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: CLEAN_PATH, HOME: process.env['HOME'] ?? '/root', LAB_NAME: name, LAB_STATE: stateDir, ...extra };
}

/** Owner of the lab whose state dir is `stateDir`. */
export function readOwner(stateDir: string): Owner | undefined {
  return readState(basename(stateDir))?.owner;
}

/** True while the process that created lab `name` still runs. */
export function ownerAlive(name: string): boolean {
  return labHealth(name) === 'live';
}

/** Removes lab `name` (the tool argument is kept for old callers and ignored); returns what could not be removed. */
export function teardownLab(_tool: string, name: string, _stateDir?: string): string[] {
  return destroyLab(name);
}
