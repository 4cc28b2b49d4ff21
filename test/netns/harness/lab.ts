/**
 * The netns tests' view of the project's lab (devtools/lab/lab.ts, the one
 * lab driver shared with the demo, the benchmarks and `npm run lab`).
 * Kept as a module so tests import `./harness/lab.js` as before.
 */

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

