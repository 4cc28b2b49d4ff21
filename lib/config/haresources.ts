/**
 * haresources parser (spec 10.1). The logical lines are exactly those the
 * real ResourceManager sees after its sed/awk normalisation, including its
 * quirk: comments are stripped before backslash continuations are joined,
 * so a `#` on a continuation line is NOT a comment and its words become
 * resources (we reproduce that and warn). test/unit/config/haresources.test.ts
 * compares this with the installed ResourceManager's own pipeline.
 */
import { asciiLower } from './text.js';
import { noScriptMessage, type ScriptFinding } from './script-files.js';
import type { ConfigProblem, ParseResult, Resource, ResourceGroup } from './types.js';

export interface HaResourcesOptions {
  file: string;
  /** Node names of ha.cf (lowercased). */
  nodes: readonly string[];
  /** Whether a resource script of that name can be found (spec 10.2); no check when absent. */
  scriptExists?: (name: string) => boolean;
  /**
   * What is wrong with the script of a resource (missing, not executable,
   * not a regular file, …; see script-files.ts); takes precedence over
   * scriptExists. `spec` is the resource as written.
   */
  inspectScript?: (name: string, spec: string) => ScriptFinding[];
}

export interface LogicalLine {
  /** First physical line (1-based). */
  line: number;
  words: string[];
  /** The line was continued and a continuation line contained `#`. */
  commentOnContinuation: boolean;
  /** The file ended while the line was still being continued (the backslash stays). */
  danglingBackslash: boolean;
}

/** ResourceManager's isip(): the shell pattern [0-9]*.[0-9]*.[0-9]*.[0-9]* */
export function isBareIp(spec: string): boolean {
  return /^[0-9][\s\S]*\.[0-9][\s\S]*\.[0-9][\s\S]*\.[0-9][\s\S]*$/.test(spec);
}

/** Splits a resource as ResourceManager does: `script::arg1::arg2`, a bare IP meaning IPaddr::<ip>. */
export function parseResourceSpec(spec: string): Resource {
  const canonical = isBareIp(spec) ? `IPaddr::${spec}` : spec;
  const sep = canonical.indexOf('::');
  if (sep < 0) return { script: canonical, args: [], spec };
  // resource2arg drops the first "[^:]*::" of the resource as written, then splits on "::".
  const args = spec.replace(/[^:]*::/, '').split('::').filter((a) => a !== '');
  return { script: canonical.slice(0, sep), args, spec };
}

/** The logical lines of a haresources file, as ResourceManager's sed/awk pipeline produces them. */
export function logicalLines(text: string): LogicalLine[] {
  const physical = text.split('\n');
  if (physical.at(-1) === '') physical.pop();
  const out: LogicalLine[] = [];
  let i = 0;
  while (i < physical.length) {
    const start = i + 1;
    // Only the first physical line of a logical line loses its comment.
    let text = (physical[i] ?? '').replace(/#.*/, '');
    let commentOnContinuation = false;
    let danglingBackslash = false;
    while (text.endsWith('\\')) {
      const next = physical[i + 1];
      if (next === undefined) {
        // GNU sed's N at end of input prints the line as it is, backslash included.
        danglingBackslash = true;
        break;
      }
      if (next.includes('#')) commentOnContinuation = true;
      text = text.slice(0, -1) + next;
      i++;
    }
    i++;
    const words = text.split(/[ \t]+/).filter((w) => w !== '');
    if (words.length > 0) out.push({ line: start, words, commentOnContinuation, danglingBackslash });
  }
  return out;
}

export function parseHaResources(text: string, opts: HaResourcesOptions): ParseResult<ResourceGroup[]> {
  const problems: ConfigProblem[] = [];
  const add = (line: number, severity: ConfigProblem['severity'], code: string, message: string): void => {
    problems.push({ file: opts.file, line, severity, code, message });
  };
  if (text.includes('\r')) {
    add(0, 'warning', 'HARES_CRLF', 'the file has DOS (CR LF) line endings: the CR becomes part of the last word of each line');
  }
  const groups: ResourceGroup[] = [];
  const keyLines = new Map<string, number>();
  const checked = new Map<string, ScriptFinding[]>();
  for (const ll of logicalLines(text)) {
    const [written = '', ...specs] = ll.words;
    const node = asciiLower(written);
    if (ll.commentOnContinuation) {
      add(ll.line, 'warning', 'HARES_COMMENT_ON_CONTINUATION',
        'a continuation line contains "#": heartbeat strips comments before joining continued lines, '
        + 'so the words after "#" are taken as resources');
    }
    if (ll.danglingBackslash) {
      add(ll.line, 'warning', 'HARES_TRAILING_BACKSLASH', 'the last line ends with "\\" but nothing follows; the backslash is kept');
    }
    if (!opts.nodes.includes(node)) {
      add(ll.line, 'error', 'HARES_BAD_NODE',
        `Bad nodename in ${opts.file} [${written}]: the first word must be a node of ha.cf (${opts.nodes.join(', ') || 'none'})`);
    }
    const key = specs[0];
    if (key === undefined) {
      add(ll.line, 'warning', 'HARES_NO_RESOURCES', `the line for node ${node} lists no resources; it is ignored`);
      continue;
    }
    const first = keyLines.get(key);
    if (first !== undefined) {
      add(ll.line, 'error', 'HARES_DUPLICATE_KEY',
        `resource group key [${key}] is already the first resource of line ${first}: the first resource of each line must be unique`);
    } else {
      keyLines.set(key, ll.line);
    }
    const resources = specs.map(parseResourceSpec);
    for (const r of resources) {
      for (const f of scriptFindings(r, opts, checked)) add(ll.line, f.severity, f.code, f.message);
    }
    groups.push({ node, key, resources, line: ll.line });
  }
  return { value: groups, problems };
}

/**
 * The problems of a resource's script: errors on every line that names it,
 * warnings about the file only the first time the script is seen.
 */
function scriptFindings(r: Resource, opts: HaResourcesOptions, seen: Map<string, ScriptFinding[]>): ScriptFinding[] {
  const first = !seen.has(r.script);
  if (opts.inspectScript !== undefined) {
    const found = opts.inspectScript(r.script, r.spec);
    seen.set(r.script, found);
    return first ? found : found.filter((f) => f.severity === 'error');
  }
  if (opts.scriptExists === undefined) return [];
  const known = seen.get(r.script);
  const missing: ScriptFinding[] = [{ severity: 'error', code: 'HARES_NO_SCRIPT', message: noScriptMessage(r.script, r.spec, ['no executable file of that name in the resource directories']) }];
  if (known !== undefined) return known.length > 0 ? missing : [];
  const exists = opts.scriptExists(r.script);
  seen.set(r.script, exists ? [] : missing);
  return exists ? [] : missing;
}
