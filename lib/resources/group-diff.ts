/**
 * What changed between the resource groups a node runs with and a newly
 * read haresources: for the reload message (heartbeat-ts keeps the running
 * groups and says so, instead of ignoring the change in silence).
 */
import type { ResourceGroup } from '../config/types.js';

const describe = (g: ResourceGroup): string => `${g.node} ${g.resources.map((r) => r.spec).join(' ')}`;

/** One line per added, removed or changed group (by key), in file order; empty when equal. */
export function groupChanges(running: readonly ResourceGroup[], loaded: readonly ResourceGroup[]): string[] {
  const before = new Map(running.map((g) => [g.key, describe(g)]));
  const after = new Map(loaded.map((g) => [g.key, describe(g)]));
  const out: string[] = [];
  for (const [key, line] of before) {
    const now = after.get(key);
    if (now === undefined) out.push(`group ${key} removed (was: ${line})`);
    else if (now !== line) out.push(`group ${key} changed (was: ${line}; now: ${now})`);
  }
  for (const [key, line] of after) if (!before.has(key)) out.push(`group ${key} added (${line})`);
  return out;
}
