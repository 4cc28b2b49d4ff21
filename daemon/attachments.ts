/**
 * What runs on top of the membership core in the daemon. Resource
 * management and the client API attach here.
 */
import { RespawnAttachment } from './respawn.js';
import { ResourcesAttachment, scriptEnvironment } from './resources.js';
import type { Attachment, RunContext } from './run.js';

export const makeAttachments: RunContext['makeAttachments'] = (ctx) => {
  const list: Attachment[] = [];
  // -M, or a crm/pacemaker cluster: no v1 resource management.
  if (!ctx.options.noResources && !ctx.config.crm) {
    list.push(new ResourcesAttachment({
      config: ctx.config,
      groups: ctx.groups,
      paths: ctx.paths,
      nodename: ctx.nodename,
      log: ctx.log,
    }));
  }
  const env = scriptEnvironment({ config: ctx.config, groups: ctx.groups, paths: ctx.paths, nodename: ctx.nodename, log: ctx.log });
  if (ctx.config.respawn.length > 0) list.push(new RespawnAttachment(ctx.config, ctx.log, env));
  return list;
};
