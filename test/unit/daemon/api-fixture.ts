/**
 * Two real membership cores on an in-process segment (manual clock), each
 * with a real ApiServer on a unix socket in a temporary directory, for the
 * API, cl_status and FIFO tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAuthKeys } from '../../../lib/config/authkeys.js';
import { parseHaCf } from '../../../lib/config/hacf.js';
import type { HaConfig } from '../../../lib/config/types.js';
import type { Cluster } from '../../../lib/membership/cluster.js';
import { MemoryStateStore } from '../../../lib/membership/state-files.js';
import { assembleNode } from '../../../lib/node/assemble.js';
import { ManualClock } from '../../../lib/util/clock.js';
import { memoryLogger } from '../../../lib/util/log.js';
import { ApiServer, type ApiServerOptions } from '../../../daemon/api/server.js';
import type { ApiLimits } from '../../../daemon/api/limits.js';
import type { ResourceStatusSource } from '../../../daemon/api/types.js';
import { toolSocketPath, type Paths } from '../../../daemon/paths.js';
import { simHaCf } from '../../sim/cluster.js';
import { SimNetwork } from '../../sim/network.js';

export const HACF = `${simHaCf(['node1', 'node2'])}crm no
apiauth testclient uid=root
`;

export function config(name: string, text = HACF): HaConfig {
  const r = parseHaCf(text, { file: 'ha.cf', nodename: name });
  if (!r.value) throw new Error(JSON.stringify(r.problems));
  return r.value;
}

export interface ApiNode {
  name: string;
  cluster: Cluster;
  stop(): Promise<void>;
  api: ApiServer;
  paths: Paths;
  lines: string[];
}

export interface ApiLab {
  hub: SimNetwork;
  clock: ManualClock;
  nodes: ApiNode[];
  dir: string;
  close(): Promise<void>;
}

/** `apiOnNodeClock`: the API's timers run on the lab's manual clock too (else in real time). */
export async function apiLab(o: {
  text?: string; resources?: ResourceStatusSource; manageResources?: boolean; limits?: Partial<ApiLimits>; apiOnNodeClock?: boolean;
  overview?: ApiServerOptions['overview'];
} = {}): Promise<ApiLab> {
  const clock = new ManualClock();
  const hub = new SimNetwork(clock);
  // API clients act in real time while the manual clock stands still.
  hub.latencyMs = 0;
  const dir = mkdtempSync(join(tmpdir(), 'hbts-api-'));
  const keys = parseAuthKeys('auth 1\n1 sha1 secret\n', { file: 'authkeys', mode: 0o100600 }).value;
  if (!keys) throw new Error('authkeys');
  const nodes: ApiNode[] = [];
  for (const [i, name] of ['node1', 'node2'].entries()) {
    const log = memoryLogger();
    const cfg = config(name, o.text);
    const { messaging } = assembleNode({
      config: cfg, keys, groups: [], nodename: name, media: () => [hub.medium(name)],
      clock, log, store: new MemoryStateStore(Buffer.alloc(16, i + 1), 10 + i), scripts: undefined,
      loadavg: () => '0.00 0.00 0.00 1/1 1', random: () => 0.5,
    });
    const cluster = messaging.cluster;
    await messaging.start();
    const paths: Paths = { haDir: dir, stateDir: join(dir, name), runDir: join(dir, name, 'run'), pidFile: join(dir, name, 'pid'), resourceDirs: [] };
    const api = new ApiServer({
      log, config: cfg, paths, manageResources: o.manageResources ?? true, version: '3.0.6 (test)',
      ...(o.resources ? { resources: o.resources } : {}),
      ...(o.limits ? { limits: o.limits } : {}),
      ...(o.apiOnNodeClock ? { clock } : {}),
      ...(o.overview ? { overview: o.overview } : {}),
    });
    api.start({ cluster });
    nodes.push({ name, cluster, stop: () => messaging.stop(), api, paths, lines: log.lines });
  }
  clock.advance(3000);
  for (const n of nodes) await n.api.ready();
  return {
    hub, clock, nodes, dir,
    async close() {
      for (const n of nodes) {
        await n.api.shutdown();
        await n.stop();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * An ApiLab for one describe block (up before its tests, closed after);
 * returns a getter of node1's tool socket, the one cl_status and hb_status use.
 */
export function suiteToolSocket(o: Parameters<typeof apiLab>[0] = {}): () => string {
  let lab: ApiLab | undefined;
  beforeAll(async () => {
    lab = await apiLab(o);
  });
  afterAll(async () => lab?.close());
  return () => {
    const node = lab?.nodes[0];
    if (node === undefined) throw new Error('api lab not up');
    return toolSocketPath(node.paths);
  };
}
