/**
 * The netns tests' view of the project's lab (devtools/lab/lab.ts, the one
 * lab driver shared with the demo, the benchmarks and `npm run lab`).
 * Kept as a module so tests import `./harness/lab.js` as before.
 */
import { REPO_ROOT } from '../../../devtools/lab/lab.js';

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

/** @deprecated the external netns-lab script is gone: the project's lab CLI as one executable (devtools/lab/hb-lab). */
export function netnsLabPath(): string {
  return `${REPO_ROOT}/devtools/lab/hb-lab`;
}
