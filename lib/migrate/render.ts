/**
 * The model of ./model.ts as files: corosync.conf (Corosync 3, knet), the
 * CIB (XML for `cibadmin --replace --xml-file`), and the same configuration
 * as crm shell and pcs commands.
 */
import type { Group, PcmkModel, Primitive } from './model.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function corosyncConf(m: PcmkModel, generator: string): string {
  const nodes = m.nodes.map((n, k) => `\tnode {\n\t\tring0_addr: ${n}\n\t\tname: ${n}\n\t\tnodeid: ${k + 1}\n\t}`).join('\n');
  return `# Written by ${generator} from Heartbeat's ha.cf.
# token + consensus (${m.tokenMs} + ${m.consensusMs} ms) is about Heartbeat's deadtime.
totem {
\tversion: 2
\tcluster_name: ${m.clusterName}
\ttransport: knet
\ttoken: ${m.tokenMs}
\tconsensus: ${m.consensusMs}
\tcrypto_cipher: aes256
\tcrypto_hash: sha256
}

nodelist {
${nodes}
}

quorum {
\tprovider: corosync_votequorum
${m.twoNode ? '\ttwo_node: 1\n' : ''}}

logging {
\tto_logfile: yes
\tlogfile: /var/log/corosync/corosync.log
\tto_syslog: yes
\ttimestamp: on
}
`;
}

function nvpairs(owner: string, kind: string, pairs: ReadonlyArray<readonly [string, string]>, indent: string): string {
  if (pairs.length === 0) return '';
  const items = pairs.map(([n, v]) => `${indent}  <nvpair id="${esc(`${owner}-${kind}-${n}`)}" name="${esc(n)}" value="${esc(v)}"/>`).join('\n');
  const tag = kind === 'meta' ? 'meta_attributes' : 'instance_attributes';
  return `${indent}<${tag} id="${esc(`${owner}-${kind}`)}">\n${items}\n${indent}</${tag}>\n`;
}

function primitiveXml(p: Primitive, indent: string): string {
  const [cls, provider, type] = p.agent.split(':');
  const agent = type === undefined ? `class="${esc(cls ?? '')}" type="${esc(provider ?? '')}"` : `class="${esc(cls ?? '')}" provider="${esc(provider ?? '')}" type="${esc(type)}"`;
  const opMeta = p.meta.filter(([n]) => n === 'on-fail');
  const meta = p.meta.filter(([n]) => n !== 'on-fail');
  const onFail = opMeta.length > 0 ? ` on-fail="${esc(opMeta[0]?.[1] ?? '')}"` : '';
  return `${indent}<primitive id="${esc(p.id)}" ${agent}>\n`
    + nvpairs(p.id, 'params', p.params, `${indent}  `)
    + nvpairs(p.id, 'meta', meta, `${indent}  `)
    + `${indent}  <operations>\n${indent}    <op id="${esc(p.id)}-monitor" name="monitor" interval="${p.monitor.intervalS}s" timeout="${p.monitor.timeoutS}s"${onFail}/>\n${indent}  </operations>\n`
    + `${indent}</primitive>\n`;
}

function pingXml(m: PcmkModel): string {
  if (m.ping === undefined) return '';
  return `      <clone id="ping-clone">\n${primitiveXml({
    id: 'ping', agent: 'ocf:pacemaker:ping', params: [['host_list', m.ping.hosts.join(' ')], ['multiplier', '100'], ['dampen', '5s']],
    monitor: { intervalS: 10, timeoutS: 60 }, meta: [], source: 'ping nodes',
  }, '        ')}      </clone>\n`;
}

function constraintsXml(m: PcmkModel): string {
  return m.groups.map((g) => {
    const prefer = `      <rsc_location id="${esc(g.id)}-prefers-${esc(g.home)}" rsc="${esc(g.id)}" node="${esc(g.home)}" score="${m.homeScore}"/>\n`;
    if (m.ping === undefined) return prefer;
    return `${prefer}      <rsc_location id="${esc(g.id)}-connected" rsc="${esc(g.id)}">\n`
      + `        <rule id="${esc(g.id)}-connected-rule" score="-INFINITY" boolean-op="or">\n`
      + `          <expression id="${esc(g.id)}-no-pingd" attribute="pingd" operation="not_defined"/>\n`
      + `          <expression id="${esc(g.id)}-zero-pingd" attribute="pingd" operation="lte" value="0" type="number"/>\n`
      + '        </rule>\n      </rsc_location>\n';
  }).join('');
}

export function cibXml(m: PcmkModel): string {
  const props: Array<[string, string]> = [
    ['stonith-enabled', m.fencing.length > 0 ? 'true' : 'false'],
    ['no-quorum-policy', m.noQuorumPolicy],
    ['dc-deadtime', '5s'],
  ];
  const groups = m.groups.map((g: Group) => `      <group id="${esc(g.id)}">\n${g.primitives.map((p) => primitiveXml(p, '        ')).join('')}      </group>\n`).join('');
  return `<cib validate-with="pacemaker-3.0" epoch="1" num_updates="0" admin_epoch="1">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
${props.map(([n, v]) => `        <nvpair id="cib-bootstrap-options-${esc(n)}" name="${esc(n)}" value="${esc(v)}"/>`).join('\n')}
      </cluster_property_set>
    </crm_config>
    <nodes>
${m.nodes.map((n, k) => `      <node id="${k + 1}" uname="${esc(n)}"/>`).join('\n')}
    </nodes>
    <resources>
${groups}${m.fencing.map((p) => primitiveXml(p, '      ')).join('')}${pingXml(m)}    </resources>
    <constraints>
${constraintsXml(m)}    </constraints>
    <rsc_defaults>
      <meta_attributes id="rsc-options">
        <nvpair id="rsc-options-resource-stickiness" name="resource-stickiness" value="${esc(m.stickiness)}"/>
      </meta_attributes>
    </rsc_defaults>
  </configuration>
</cib>
`;
}

const q = (s: string): string => (/^[A-Za-z0-9_./:=,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);

function crmPrimitive(p: Primitive): string {
  const params = p.params.length > 0 ? ` params ${p.params.map(([n, v]) => `${n}=${q(v)}`).join(' ')}` : '';
  const meta = p.meta.filter(([n]) => n !== 'on-fail');
  const metaText = meta.length > 0 ? ` meta ${meta.map(([n, v]) => `${n}=${q(v)}`).join(' ')}` : '';
  const onFail = p.meta.find(([n]) => n === 'on-fail');
  return `crm configure primitive ${p.id} ${p.agent}${params}${metaText} op monitor interval=${p.monitor.intervalS}s timeout=${p.monitor.timeoutS}s${onFail ? ` on-fail=${onFail[1]}` : ''}`;
}

function pcsPrimitive(p: Primitive, group?: string): string {
  const params = p.params.map(([n, v]) => ` ${n}=${q(v)}`).join('');
  const meta = p.meta.filter(([n]) => n !== 'on-fail');
  const metaText = meta.length > 0 ? ` meta${meta.map(([n, v]) => ` ${n}=${q(v)}`).join('')}` : '';
  const onFail = p.meta.find(([n]) => n === 'on-fail');
  const cmd = p.agent.startsWith('stonith:') ? `pcs stonith create ${p.id} ${p.agent.slice('stonith:'.length)}` : `pcs resource create ${p.id} ${p.agent}`;
  return `${cmd}${params}${metaText} op monitor interval=${p.monitor.intervalS}s timeout=${p.monitor.timeoutS}s${onFail ? ` on-fail=${onFail[1]}` : ''}${group ? ` --group ${group}` : ''}`;
}

export function crmCommands(m: PcmkModel): string {
  const lines = [
    '#!/bin/sh', '# crm shell commands for the same configuration as cib.xml', 'set -e',
    `crm configure property stonith-enabled=${m.fencing.length > 0} no-quorum-policy=${m.noQuorumPolicy}`,
    `crm configure rsc_defaults resource-stickiness=${m.stickiness}`,
  ];
  for (const g of m.groups) {
    lines.push(...g.primitives.map(crmPrimitive), `crm configure group ${g.id} ${g.primitives.map((p) => p.id).join(' ')}`,
      `crm configure location ${g.id}-prefers-${g.home} ${g.id} ${m.homeScore}: ${g.home}`);
  }
  lines.push(...m.fencing.map(crmPrimitive));
  if (m.ping !== undefined) {
    lines.push(`crm configure primitive ping ocf:pacemaker:ping params host_list=${q(m.ping.hosts.join(' '))} multiplier=100 dampen=5s op monitor interval=10s timeout=60s`,
      'crm configure clone ping-clone ping');
    for (const g of m.groups) lines.push(`crm configure location ${g.id}-connected ${g.id} rule -inf: not_defined pingd or pingd number:lte 0`);
  }
  return `${lines.join('\n')}\n`;
}

export function pcsCommands(m: PcmkModel): string {
  const lines = [
    '#!/bin/sh', '# pcs commands for the same configuration as cib.xml', 'set -e',
    `pcs property set stonith-enabled=${m.fencing.length > 0} no-quorum-policy=${m.noQuorumPolicy}`,
    `pcs resource defaults update resource-stickiness=${m.stickiness}`,
  ];
  for (const g of m.groups) {
    lines.push(...g.primitives.map((p) => pcsPrimitive(p, g.id)), `pcs constraint location ${g.id} prefers ${g.home}=${m.homeScore}`);
  }
  lines.push(...m.fencing.map((p) => pcsPrimitive(p)));
  if (m.ping !== undefined) {
    lines.push(`pcs resource create ping ocf:pacemaker:ping host_list=${q(m.ping.hosts.join(' '))} multiplier=100 dampen=5s op monitor interval=10s timeout=60s clone`);
    for (const g of m.groups) lines.push(`pcs constraint location ${g.id} rule score=-INFINITY not_defined pingd or pingd lte 0`);
  }
  return `${lines.join('\n')}\n`;
}
