/**
 * The repository stands alone: scripts/check-standalone.sh (run by .ci/run
 * before anything else) finds no tracked file that reaches outside the clone
 * and it does fail on one that does.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const SCRIPT = join(REPO, 'scripts/check-standalone.sh');
const scratch = mkdtempSync(join(tmpdir(), 'hb-standalone-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function git(dir: string, ...args: string[]): void {
  const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
}

describe('check-standalone', () => {
  it('passes on this repository', () => {
    const r = spawnSync('bash', [SCRIPT], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('fails on a tracked file that reaches for the reference material beside the clone, naming it', () => {
    const repo = join(scratch, 'repo');
    mkdirSync(join(repo, 'scripts'), { recursive: true });
    copyFileSync(SCRIPT, join(repo, 'scripts/check-standalone.sh'));
    writeFileSync(join(repo, 'ok.ts'), "const note = 'shared memory is fine';\n");
    git(repo, 'init', '-q');
    git(repo, 'add', '-A');
    expect(spawnSync('bash', ['scripts/check-standalone.sh'], { cwd: repo }).status).toBe(0);
    // assembled, so this tracked file does not itself hold what the check looks for
    const shared = (...parts: string[]): string => parts.join('/');
    const offenders = [
      `readFileSync('${shared('..', 'shared', 'spec', 'x.json')}')`,
      `see ${shared('', 'work', 'shared', 'spec', 'heartbeat-protocol.md')}`,
      `run ${shared('shared', 'lab', 'netns-lab')} up 2`,
    ];
    for (const text of offenders) {
      writeFileSync(join(repo, 'bad.ts'), `${text}\n`);
      git(repo, 'add', '-A');
      const r = spawnSync('bash', ['scripts/check-standalone.sh'], { cwd: repo, encoding: 'utf8' });
      expect(r.status, text).toBe(1);
      expect(r.stderr).toContain('bad.ts:1:');
    }
  });
});
