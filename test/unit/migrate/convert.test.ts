import { describe, expect, it } from 'vitest';
import { parseHaCf } from '../../../lib/config/hacf.js';
import { parseHaResources } from '../../../lib/config/haresources.js';
import { parseAuthKeys } from '../../../lib/config/authkeys.js';
import { EMPTY_HBTS_CONFIG, parseHbtsCf } from '../../../lib/config/hbts-cf.js';
import { convert, corosyncTiming, DEFAULT_MONITOR, type MigrationInput } from '../../../lib/migrate/convert.js';
import { cibXml, corosyncConf, crmCommands, pcsCommands } from '../../../lib/migrate/render.js';
import type { ScriptPlace } from '../../../lib/migrate/resources.js';
import { stonithHostLines } from '../../../daemon/tools/hb2pcmk-files.js';

const FILES = { haCf: 'ha.cf', haresources: 'haresources', authkeys: 'authkeys', hbtsCf: 'heartbeat-ts.cf' };
const BASE = 'keepalive 1\ndeadtime 10\ninitdead 30\nbcast eth0\nnode node1 node2\nauto_failback on\n';

function input(o: { hacf?: string; haresources?: string; authkeys?: string; hbts?: string; places?: Record<string, ScriptPlace> }): MigrationInput {
  const hacf = o.hacf ?? BASE;
  const cf = parseHaCf(hacf, { file: 'ha.cf', nodename: 'node1' });
  if (cf.value === undefined) throw new Error(JSON.stringify(cf.problems));
  const hr = parseHaResources(o.haresources ?? 'node1 IPaddr::10.0.0.100/24/eth0 httpd\n', { file: 'haresources', nodes: cf.value.nodes });
  const keys = parseAuthKeys(o.authkeys ?? 'auth 1\n1 sha1 k\n', { file: 'authkeys', mode: 0o600 }).value;
  const hbts = o.hbts === undefined ? EMPTY_HBTS_CONFIG : parseHbtsCf(o.hbts, { file: 'heartbeat-ts.cf' }).value ?? EMPTY_HBTS_CONFIG;
  return {
    config: cf.value, groups: hr.value ?? [], keys, hbts, files: FILES, stonithHosts: stonithHostLines(hacf),
    place: (s) => (o.places !== undefined && s in o.places ? o.places[s] : s === 'httpd' ? 'init.d' : 'resource.d'),
    stonithParamNames: (type) => ({ 'external/ssh': ['hostlist'], 'external/ipmi': ['hostname', 'ipaddr', 'userid', 'passwd', 'interface'] })[type],
  };
}

describe('hb2pcmk: the cluster', () => {
  it('timing from deadtime, two_node for two nodes, the link from the medium, names as ring addresses', () => {
    const { model, problems } = convert(input({}));
    expect(corosyncTiming(10_000)).toEqual({ tokenMs: 4545, consensusMs: 5454 });
    expect(model).toMatchObject({ nodes: ['node1', 'node2'], links: ['eth0'], tokenMs: 4545, twoNode: true, noQuorumPolicy: 'ignore' });
    const conf = corosyncConf(model, 'test');
    expect(conf).toContain('\ttransport: knet\n\ttoken: 4545\n\tconsensus: 5454\n');
    expect(conf).toContain('\tnode {\n\t\tring0_addr: node2\n\t\tname: node2\n\t\tnodeid: 2\n\t}');
    expect(conf).toContain('\ttwo_node: 1\n');
    expect(problems.map((p) => p.message)).toEqual(['no STONITH device: stonith-enabled=false (as v1 without stonith: shared disks are not protected)']);
  });

  it('reports what Corosync cannot carry, line by line: serial, crc, an unknown script; a second link is a warning', () => {
    const { problems } = convert(input({
      hacf: `${BASE}serial /dev/ttyS0\nbcast eth1\n`, authkeys: 'auth 2\n2 crc\n',
      haresources: 'node1 10.0.0.100 mystery\n', places: { mystery: undefined },
    }));
    const errors = problems.filter((p) => p.severity === 'error').map((p) => `${p.file}:${p.line}: ${p.message.split(':')[0]}`);
    expect(errors).toEqual(['ha.cf:7: serial /dev/ttyS0', 'authkeys:2: crc authenticates nothing; the converted cluster uses Corosync\'s crypto (aes256, sha256) with the fresh authkey', 'haresources:1: mystery']);
    expect(problems.some((p) => p.severity === 'warning' && /2 heartbeat interfaces \(eth0, eth1\)/.test(p.message))).toBe(true);
  });
});

describe('hb2pcmk: resources', () => {
  it('one group per haresources line, in order; IPaddr/IPaddr2/bare IP -> IPaddr2, Filesystem -> Filesystem, init script -> lsb, resource.d script -> the wrapper', () => {
    const { model } = convert(input({
      haresources: 'node1 IPaddr::10.0.0.100/24/eth0 Filesystem::/dev/sdb1::/srv::ext4 httpd\nnode2 10.0.0.101 IPaddr2::10.0.0.102/24 custom::a::b\n',
    }));
    expect(model.groups.map((g) => [g.home, g.primitives.map((p) => p.agent)])).toEqual([
      ['node1', ['ocf:heartbeat:IPaddr2', 'ocf:heartbeat:Filesystem', 'lsb:httpd']],
      ['node2', ['ocf:heartbeat:IPaddr2', 'ocf:heartbeat:IPaddr2', 'ocf:heartbeat-ts:hbscript']],
    ]);
    const [g1, g2] = model.groups;
    expect(g1?.primitives[0]?.params).toEqual([['ip', '10.0.0.100'], ['cidr_netmask', '24'], ['nic', 'eth0']]);
    expect(g1?.primitives[1]?.params).toEqual([['device', '/dev/sdb1'], ['directory', '/srv'], ['fstype', 'ext4']]);
    expect(g2?.primitives[0]?.params).toEqual([['ip', '10.0.0.101']]);
    expect(g2?.primitives[2]?.params).toEqual([['script', 'custom'], ['args', 'a::b']]);
    expect(g1?.primitives[0]?.monitor).toEqual(DEFAULT_MONITOR);
  });

  it('auto_failback -> stickiness, the home node -> a location preference; drbddisk is refused with the reason', () => {
    const off = BASE.replace('auto_failback on', 'auto_failback off');
    expect(convert(input({})).model.stickiness).toBe('0');
    expect(convert(input({ hacf: off })).model.stickiness).toBe('INFINITY');
    const xml = cibXml(convert(input({ hacf: off })).model);
    expect(xml).toContain('<rsc_location id="grp-IPaddr-10.0.0.100-24-eth0-prefers-node1" rsc="grp-IPaddr-10.0.0.100-24-eth0" node="node1" score="100"/>');
    expect(xml).toContain('name="resource-stickiness" value="INFINITY"');
    const { problems } = convert(input({ haresources: 'node1 drbddisk::r0 10.0.0.100\n' }));
    expect(problems.find((p) => p.severity === 'error')?.message).toMatch(/^drbddisk::r0: drbddisk: DRBD under Pacemaker is a promotable clone/);
  });

  it('heartbeat-ts.cf: monitor -> a monitor op with migration-threshold and failure-timeout; quorum majority -> no-quorum-policy stop', () => {
    const { model, problems } = convert(input({
      hbts: 'monitor httpd interval=10s timeout=30s max-failures=2 failure-window=5min\nmonitor IPaddr::10.0.0.100/24/eth0 interval=5 on-fail=ignore\nquorum majority\n',
    }));
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
    const [ip, httpd] = model.groups[0]?.primitives ?? [];
    expect(httpd).toMatchObject({ monitor: { intervalS: 10, timeoutS: 30 }, meta: [['migration-threshold', '2'], ['failure-timeout', '300s']] });
    expect(ip).toMatchObject({ monitor: { intervalS: 5, timeoutS: 20 }, meta: [['on-fail', 'ignore']] });
    expect(model.noQuorumPolicy).toBe('stop');
    expect(cibXml(model)).toContain('<op id="IPaddr-10.0.0.100-24-eth0-monitor" name="monitor" interval="5s" timeout="20s" on-fail="ignore"/>');
  });
});

describe('hb2pcmk: fencing and ping', () => {
  it('every stonith_host line (any host) -> a fence device with cluster-glue\'s parameter names; unknown types are reported', () => {
    const { model, problems } = convert(input({
      hacf: `${BASE}stonith_host * external/ssh node1 node2\nstonith_host node2 external/ipmi node1 10.0.0.21 admin secret lan\nstonith_host * wti_nps x\n`,
    }));
    expect(model.fencing.map((f) => [f.agent, f.params])).toEqual([
      ['stonith:external/ssh', [['hostlist', 'node1 node2']]],
      ['stonith:external/ipmi', [['hostname', 'node1'], ['ipaddr', '10.0.0.21'], ['userid', 'admin'], ['passwd', 'secret'], ['interface', 'lan']]],
    ]);
    expect(problems.map((p) => `${p.line} ${p.severity}`)).toEqual(['8 warning', '9 error']);
    expect(cibXml(model)).toContain('name="stonith-enabled" value="true"');
    expect(pcsCommands(model)).toContain("pcs stonith create fence-external-ssh external/ssh hostlist='node1 node2' op monitor interval=60s timeout=20s");
  });

  it('ping nodes with ipfail -> an ocf:pacemaker:ping clone and a rule that keeps groups off disconnected nodes', () => {
    const { model } = convert(input({ hacf: `${BASE}ping 10.0.0.254\nrespawn hacluster /usr/lib/heartbeat/ipfail\n` }));
    expect(model.ping).toEqual({ hosts: ['10.0.0.254'] });
    const xml = cibXml(model);
    expect(xml).toContain('<clone id="ping-clone">');
    expect(xml).toContain('<expression id="grp-IPaddr-10.0.0.100-24-eth0-zero-pingd" attribute="pingd" operation="lte" value="0" type="number"/>');
    expect(crmCommands(model)).toContain('rule -inf: not_defined pingd or pingd number:lte 0');
    const other = convert(input({ hacf: `${BASE}respawn hacluster /usr/local/bin/mydaemon\n` }));
    expect(other.problems.find((p) => p.severity === 'error')?.message).toMatch(/^respawn \/usr\/local\/bin\/mydaemon: not a cluster resource/);
  });
});
