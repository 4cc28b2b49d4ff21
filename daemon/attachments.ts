/**
 * What runs on top of the membership core in the daemon. Resource
 * management and the client API attach here.
 */
import { ApiServer } from './api/server.js';
import { FifoReader } from './fifo.js';
import { VERSION, type Attachment, type RunContext } from './run.js';

/** What the API reports as the version (heartbeat reports `3.0.6 (node: <hg id>)`). */
export const API_VERSION = `${VERSION} (heartbeat-ts 0.1.0)`;

export const makeAttachments: RunContext['makeAttachments'] = (ctx) => {
  const list: Attachment[] = [];
  list.push(new FifoReader({ log: ctx.log, paths: ctx.paths }));
  // The resource manager, when added, calls api.setResourceSource(...) for rscstatus.
  const api = new ApiServer({
    log: ctx.log,
    config: ctx.config,
    paths: ctx.paths,
    manageResources: !ctx.options.noResources && !ctx.config.crm,
    version: API_VERSION,
  });
  list.push(api);
  return list;
};
