/** The ldirectord.cf the ipvsadm tests share (unit grammar checks and the netns run under a real ipvsadm). */
import { parseLdirectordConf } from '../../../lib/ldirectord/parse.js';

export const cfgOf = (text: string) => {
  const r = parseLdirectordConf(text, 'ld.cf', { portLookup: () => undefined });
  if (!r.value) throw new Error(JSON.stringify(r.problems));
  return r.value;
};

export const CONF = `quiescent=no
fallback=127.0.0.1:80 gate
virtual=172.25.60.200:80
	real=172.25.60.12:80 gate
	real=172.25.60.13:80 gate 2
	scheduler=rr
	persistent=300
virtual=10.0.0.1:8443
	real=192.168.10.1:443 masq 3
	real=192.168.10.2:443 masq
	scheduler=wlc
	persistent=600
	netmask=255.255.255.0
	quiescent=yes
virtual=10.0.0.1:53
	real=192.168.10.1:53 ipip
	scheduler=sh
	ops=yes
virtual=5
	real=192.168.10.1 masq
	scheduler=lblcr
`;
