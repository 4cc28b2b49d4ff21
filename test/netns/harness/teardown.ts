/** Lab bookkeeping the netns tests inspect (devtools/lab/state.ts and teardown.ts). */
import { destroyLab } from '../../../devtools/lab/teardown.js';

export { CLEAN_PATH, existingLabNames, labNamespaces, type Owner, ownerAlive, STATE_ROOT } from '../../../devtools/lab/state.js';

/** Removes lab `name` (the first two arguments are kept for old callers and ignored); returns what could not be removed. */
export function teardownLab(_tool: string, name: string, _stateDir?: string): string[] {
  return destroyLab(name);
}
