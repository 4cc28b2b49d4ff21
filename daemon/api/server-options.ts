/** What an ApiServer is built from (daemon/api/server.ts). */
import type { HaConfig } from '../../lib/config/types.js';
import type { Cluster } from '../../lib/membership/cluster.js';
import type { Clock } from '../../lib/util/clock.js';
import type { Logger } from '../../lib/util/log.js';
import type { Paths } from '../paths.js';
import type { IdTables } from './auth.js';
import type { ApiLimits, ConnectionGate } from './limits.js';
import type { ResourceStatusSource } from './types.js';

export interface ApiServerOptions {
  log: Logger;
  config: HaConfig;
  paths: Paths;
  /** false with `heartbeat -M` or pacemaker: rscstatus is refused. */
  manageResources: boolean;
  /** Reported at signon and by `cl_status hbparameter -p hbversion`. */
  version: string;
  resources?: ResourceStatusSource;
  /** Defaults to /etc/passwd and /etc/group, read at each signon. */
  idTables?: () => IdTables;
  /** Overrides of DEFAULT_API_LIMITS (tests). */
  limits?: Partial<ApiLimits>;
  /** A gate shared with other socket servers, so the caps hold per daemon, not per socket. */
  gate?: ConnectionGate;
  /** The node's clock, for the API's timeouts and rate limits (default: the system clock). */
  clock?: Clock;
  /** Groups, holders and recent events for `hb_status` (default: none). */
  overview?: (cluster: Cluster) => Record<string, unknown>;
}
