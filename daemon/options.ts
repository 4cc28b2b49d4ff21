/**
 * Command-line options of the heartbeat daemon, as heartbeat 3.0.6 has
 * them (spec 11.1), plus `-t` (check the configuration and exit).
 */
export interface DaemonOptions {
  foreground: boolean;
  debug: number;
  printDefaults: boolean;
  kill: boolean;
  noResources: boolean;
  reload: boolean;
  restart: boolean;
  currentResources: string | undefined;
  status: boolean;
  noRealtime: boolean;
  verbose: boolean;
  version: boolean;
  checkConfig: boolean;
  W: boolean;
}

export const USAGE = [
  '',
  'Usage: heartbeat [-dDkMrRsvWlVft] [-C Current-resource-state]',
  '\t-C only valid with -R',
  '\t-r is mutually exclusive with -R',
  '\t-t checks the configuration files and exits (0 valid, 6 invalid)',
].join('\n');

export type ParsedOptions = { ok: true; options: DaemonOptions } | { ok: false; error: string };

export function parseOptions(argv: string[]): ParsedOptions {
  const o: DaemonOptions = {
    foreground: false, debug: 0, printDefaults: false, kill: false, noResources: false, reload: false,
    restart: false, currentResources: undefined, status: false, noRealtime: false, verbose: false,
    version: false, checkConfig: false, W: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('-') || arg === '-') return { ok: false, error: `unexpected argument '${arg}'` };
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j];
      switch (letter) {
        case 'f': o.foreground = true; break;
        case 'd': o.debug++; break;
        case 'D': o.printDefaults = true; break;
        case 'k': o.kill = true; break;
        case 'M': o.noResources = true; break;
        case 'r': o.reload = true; break;
        case 'R': o.restart = true; break;
        case 's': o.status = true; break;
        case 'l': o.noRealtime = true; break;
        case 'v': o.verbose = true; break;
        case 'V': o.version = true; break;
        case 't': o.checkConfig = true; break;
        case 'W': o.W = true; break;
        case 'C': {
          const rest = arg.slice(j + 1);
          const value = rest !== '' ? rest : argv[++i];
          if (value === undefined) return { ok: false, error: "option requires an argument -- 'C'" };
          if (!['none', 'local', 'foreign', 'all'].includes(value)) {
            return { ok: false, error: `invalid current resource state '${value}' (none, local, foreign or all)` };
          }
          o.currentResources = value;
          j = arg.length;
          break;
        }
        default:
          return { ok: false, error: `invalid option -- '${letter ?? ''}'` };
      }
    }
  }
  if (o.currentResources !== undefined && !o.restart) return { ok: false, error: '-C only valid with -R' };
  if (o.reload && o.restart) return { ok: false, error: '-r is mutually exclusive with -R' };
  return { ok: true, options: o };
}
