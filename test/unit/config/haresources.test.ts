import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isBareIp, logicalLines, parseHaResources, parseResourceSpec } from '../../../lib/config/haresources.js';
import { asciiLower } from '../../../lib/config/text.js';
import type { ConfigProblem } from '../../../lib/config/types.js';

const FILE = '/etc/ha.d/haresources';
const NODES = ['node1', 'node2'];
const RESOURCE_MANAGER = '/usr/share/heartbeat/ResourceManager';

function parse(text: string, scripts?: string[]): ReturnType<typeof parseHaResources> {
  const opts = { file: FILE, nodes: NODES, ...(scripts ? { scriptExists: (n: string) => scripts.includes(n) } : {}) };
  return parseHaResources(text, opts);
}
const codes = (ps: ConfigProblem[]): [string, number][] => ps.map((p) => [p.code, p.line]);

describe('resource specs', () => {
  it.each([
    ['httpd', 'httpd', []],
    ['IPaddr::10.0.0.1/24/eth0', 'IPaddr', ['10.0.0.1/24/eth0']],
    ['10.0.0.1', 'IPaddr', ['10.0.0.1']],
    ['10.0.0.1/24/eth0/10.0.0.255', 'IPaddr', ['10.0.0.1/24/eth0/10.0.0.255']],
    ['Filesystem::/dev/sdb1::/data::ext4', 'Filesystem', ['/dev/sdb1', '/data', 'ext4']],
    ['OCF::Dummy::inst', 'OCF', ['Dummy', 'inst']],
    ['a::::b::', 'a', ['b']],
  ] as const)('%s -> %s %j', (spec, script, args) => {
    expect(parseResourceSpec(spec)).toEqual({ script, args: [...args], spec });
  });

  it('recognises bare IPv4 addresses with the shell pattern ResourceManager uses', () => {
    expect(isBareIp('192.168.1.10')).toBe(true);
    expect(isBareIp('1.2.3.4/24/eth0')).toBe(true);
    expect(isBareIp('1a.2b.3c.4d')).toBe(true);
    expect(isBareIp('IPaddr::1.2.3.4')).toBe(false);
    expect(isBareIp('1.2.3')).toBe(false);
    expect(isBareIp('a1.2.3.4')).toBe(false);
  });
});

describe('haresources', () => {
  it('parses groups, lowercases the node, keeps specs as written', () => {
    const r = parse('# comment\n\nNODE1 10.0.0.100 Filesystem::/dev/sdb1::/data::ext4 httpd # web\nnode2\tIPaddr::10.0.0.101 mysql\n');
    expect(r.problems).toEqual([]);
    expect(r.value).toEqual([
      {
        node: 'node1', key: '10.0.0.100', line: 3, resources: [
          { script: 'IPaddr', args: ['10.0.0.100'], spec: '10.0.0.100' },
          { script: 'Filesystem', args: ['/dev/sdb1', '/data', 'ext4'], spec: 'Filesystem::/dev/sdb1::/data::ext4' },
          { script: 'httpd', args: [], spec: 'httpd' },
        ],
      },
      { node: 'node2', key: 'IPaddr::10.0.0.101', line: 4, resources: [
        { script: 'IPaddr', args: ['10.0.0.101'], spec: 'IPaddr::10.0.0.101' },
        { script: 'mysql', args: [], spec: 'mysql' },
      ] },
    ]);
  });

  it('joins backslash continuations and numbers the group by its first line', () => {
    const r = parse('\nnode1 10.0.0.1 \\\n   httpd \\\n\tmysql\nnode2 glued\\\nword\n');
    expect(r.problems).toEqual([]);
    expect(r.value?.map((g) => [g.line, g.resources.map((x) => x.spec)])).toEqual([
      [2, ['10.0.0.1', 'httpd', 'mysql']],
      [5, ['gluedword']],
    ]);
  });

  it('reproduces the comment-on-continuation quirk and warns about it', () => {
    const r = parse('node1 10.0.0.1 \\\n  httpd # the web server\n');
    expect(r.value?.[0]?.resources.map((x) => x.spec)).toEqual(['10.0.0.1', 'httpd', '#', 'the', 'web', 'server']);
    expect(codes(r.problems)).toEqual([['HARES_COMMENT_ON_CONTINUATION', 1]]);
  });

  it('does not continue a line whose backslash is inside a comment', () => {
    const r = parse('node1 a # note \\\nnode2 b\n');
    expect(r.value?.map((g) => [g.node, g.key, g.line])).toEqual([['node1', 'a', 1], ['node2', 'b', 2]]);
  });

  it('keeps a backslash left dangling at the end of the file, with a warning', () => {
    const r = parse('node1 a \\');
    expect(r.value?.[0]?.resources.map((x) => x.spec)).toEqual(['a', '\\']);
    expect(codes(r.problems)).toEqual([['HARES_TRAILING_BACKSLASH', 1]]);
  });

  it('rejects an unknown node with its line', () => {
    const r = parse('node1 a\nNode3 b\n');
    expect(codes(r.problems)).toEqual([['HARES_BAD_NODE', 2]]);
    expect(r.problems[0]?.message).toMatch(/^Bad nodename in \/etc\/ha\.d\/haresources \[Node3\]/);
    expect(r.problems[0]?.severity).toBe('error');
  });

  it('rejects a duplicate group key', () => {
    const r = parse('node1 10.0.0.1 httpd\nnode2 10.0.0.1 mysql\nnode2 IPaddr::10.0.0.1\n');
    expect(codes(r.problems)).toEqual([['HARES_DUPLICATE_KEY', 2]]);
    expect(r.problems[0]?.message).toContain('[10.0.0.1] is already the first resource of line 1');
  });

  it('rejects resources whose script cannot be found, naming script and line', () => {
    const r = parse('node1 10.0.0.1 httpd\nnode2 Filesystem::/dev/sdb1::/data mysql\n', ['IPaddr', 'httpd', 'mysql']);
    expect(codes(r.problems)).toEqual([['HARES_NO_SCRIPT', 2]]);
    expect(r.problems[0]?.message).toMatch(/^Cannot locate resource script Filesystem \(resource \[Filesystem::\/dev\/sdb1::\/data\]\)/);
  });

  it('warns about a line without resources and about CR LF files', () => {
    expect(codes(parse('node1\n').problems)).toEqual([['HARES_NO_RESOURCES', 1]]);
    expect(codes(parse('node1 a\r\n').problems)).toEqual([['HARES_CRLF', 0]]);
  });
});

describe('logical lines agree with the installed ResourceManager', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hares-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const CASES = [
    'node1 10.0.0.1 httpd\n',
    '# c\n\n  \t \nNODE1\t10.0.0.1   Filesystem::/dev/sdb1::/data::ext4   httpd  # trailing\n',
    'node1 a \\\n  b \\\n\tc\nnode2 d\n',
    'node1 a \\\n  b # not a comment\nnode2 x#y z\n',
    'node1 a # note \\\nnode2 b\n',
    'node1 glued\\\nword\n',
    '# only \\\nnode2 e\n',
    'node1 a \\',
    'node1 a\r\nnode2 b \\\r\nc\n',
  ];

  it.each(CASES.map((c) => [c]))('%j', (text) => {
    if (!existsSync(RESOURCE_MANAGER)) {
      throw new Error(`${RESOURCE_MANAGER} is missing: install Debian's heartbeat package to run this test`);
    }
    writeFileSync(join(dir, 'haresources'), text);
    // ResourceManager's own normalising function, run against our file.
    const script = readFileSync(RESOURCE_MANAGER, 'utf8');
    const ipres = /^ipres\(\) \{[\s\S]*?^\}/m.exec(script)?.[0];
    expect(ipres, 'ipres() in ResourceManager').toBeDefined();
    const r = spawnSync('/bin/sh', ['-c', `HA_DIR='${dir}'\n${ipres}\nipres`], { encoding: 'latin1' });
    const real = r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split(' ').filter((w) => w !== '').join(' '));
    expect(real.length, r.stderr).toBeGreaterThan(0);
    const ours = logicalLines(text).map(({ words: [first = '', ...rest] }) => [asciiLower(first), ...rest].join(' '));
    expect(ours).toEqual(real);
  });
});
