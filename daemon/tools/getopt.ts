/**
 * POSIX getopt(3) with GNU glibc's behaviour, which the real tools are built
 * with: options may follow operands (argv is permuted) unless
 * POSIXLY_CORRECT is set or the option string starts with `+`; `--` ends
 * options; clustered flags (`-mv`); an option argument is the rest of the
 * word or the next word (whatever it looks like); diagnostics
 * `<prog>: invalid option -- 'x'` and
 * `<prog>: option requires an argument -- 'p'`.
 */
export type GetoptItem =
  | { kind: 'option'; option: string; arg?: string }
  /** getopt returned '?': `message` is what glibc prints on stderr. */
  | { kind: 'error'; option: string; message: string };

export interface GetoptResult {
  /** What successive getopt() calls return, in order, until -1. */
  items: GetoptItem[];
  /** The operands after permutation: argv[optind..]. */
  operands: string[];
}

/**
 * Runs getopt over `args` (args[0] is the program name getopt prints, as in
 * `getopt(argc-1, argv+1, …)` where the sub-command takes that place).
 */
export function getopt(args: readonly string[], optstring: string, env: NodeJS.ProcessEnv = process.env): GetoptResult {
  const prog = args[0] ?? '';
  const posix = optstring.startsWith('+') || env['POSIXLY_CORRECT'] !== undefined;
  const spec = optstring.replace(/^[+-]/, '');
  const takesArg = (c: string): boolean | undefined => {
    if (c === ':') return undefined;
    const at = spec.indexOf(c);
    return at < 0 ? undefined : spec[at + 1] === ':';
  };
  const items: GetoptItem[] = [];
  const operands: string[] = [];
  let i = 1;
  for (; i < args.length; i++) {
    const word = args[i] ?? '';
    if (word === '--') {
      i++;
      break;
    }
    if (!word.startsWith('-') || word === '-') {
      if (posix) break;
      operands.push(word);
      continue;
    }
    for (let j = 1; j < word.length; j++) {
      const c = word[j] ?? '';
      const needs = takesArg(c);
      if (needs === undefined) {
        items.push({ kind: 'error', option: c, message: `${prog}: invalid option -- '${c}'` });
        continue;
      }
      if (!needs) {
        items.push({ kind: 'option', option: c });
        continue;
      }
      const rest = word.slice(j + 1);
      if (rest !== '') items.push({ kind: 'option', option: c, arg: rest });
      else if (i + 1 < args.length) items.push({ kind: 'option', option: c, arg: args[++i] ?? '' });
      else items.push({ kind: 'error', option: c, message: `${prog}: option requires an argument -- '${c}'` });
      break;
    }
  }
  operands.push(...args.slice(i));
  return { items, operands };
}
