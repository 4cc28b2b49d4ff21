/**
 * What runs on top of the membership core in the daemon. Resource
 * management and the client API attach here.
 */
import type { Attachment, RunContext } from './run.js';

export const makeAttachments: RunContext['makeAttachments'] = () => {
  const list: Attachment[] = [];
  return list;
};
