/**
 * The netns tests' view of the project's lab (devtools/lab/lab.ts, the one
 * lab driver shared with the demo, the benchmarks and `npm run lab`).
 * Kept as a module so tests import `./harness/lab.js` as before.
 */

import type { Lab } from '../../../devtools/lab/lab.js';

export {
  type ExecOptions,
  type ExecResult,
  type ExitInfo,
  HEARTBEAT_PRIVATE,
  Lab,
  type LabOptions,
  type NodeId,
  type NodeProcess,
  PRIVATE_INITD,
  REPO_ROOT,
  type SpawnOptions,
} from '../../../devtools/lab/lab.js';


/** The lab a test file brought up in its beforeAll; a clear error when used before that. */
export function labUp(lab: Lab | undefined): Lab {
  if (!lab) throw new Error('lab not up');
  return lab;
}
