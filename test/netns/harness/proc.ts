/** Process helpers of the lab (devtools/lab/proc.ts), where the netns tests have always imported them from. */
export {
  childrenOf,
  commOf,
  descendants,
  type ExecResult,
  isAlive,
  isRunning,
  pidsInNetns,
  processStartTime,
  type RunOptions,
  runCommand,
  signalAll,
  statusOf,
} from '../../../devtools/lab/proc.js';
