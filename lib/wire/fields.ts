/** Field names and message types of the wire protocol, defined once (spec 3.1, 4). */
export const F = {
  TYPE: 't',
  ORIG: 'src',
  ORIGUUID: 'srcuuid',
  TO: 'dest',
  TOUUID: 'destuuid',
  SEQ: 'seq',
  GEN: 'hg',
  TS: 'ts',
  LOAD: 'ld',
  TTL: 'ttl',
  AUTH: 'auth',
  STATUS: 'st',
  DEADTIME: 'dt',
  PROTOCOL: 'protocol',
  INFO: 'info',
  FIRSTSEQ: 'firstseq',
  LASTSEQ: 'lastseq',
  ACKSEQ: 'ackseq',
  NODELIST: 'nodelist',
  DELNODELIST: 'delnodelist',
  RSC_HOLD: 'rsc_hold',
  RTYPE: 'rtype',
  ISSTABLE: 'isstable',
  IPADDR: 'ipaddr',
  WEOWN: 'weown',
  OK: 'ok',
  NODE: 'node',
  RESULT: 'result',
  FROMID: 'from_id',
  TOID: 'to_id',
  CLIENT_GEN: 'client_gen',
  CLIENTNAME: 'cn',
  CLIENTSTATUS: 'cs',
  IFNAME: 'ifname',
  NUM_PING: 'num_ping',
  /**
   * heartbeat-ts only, on `starting` and `resource` (3.0.6 ignores unknown
   * fields): the sender skips RQSTDELAY when every node says the same.
   */
  HBTS_FAST_START: 'hbts_fast_start',
} as const;

export const T = {
  STATUS: 'status',
  NS_STATUS: 'NS_st',
  REXMIT: 'NS_rexmit',
  NAKREXMIT: 'NS_nak_rexmit',
  ACKMSG: 'NS_ackmsg',
  REQNODES: 'reqnodes',
  REPNODES: 'repnodes',
  STARTING: 'starting',
  RESOURCE: 'resource',
  ASK_RESOURCES: 'ask_resources',
  IP_REQUEST: 'ip-request',
  IP_REQUEST_RESP: 'ip-request-resp',
  HB_TAKEOVER: 'hb_takeover',
  SHUTDONE: 'shutdone',
  STONITH: 'stonith',
  APICLSTAT: 'hbapi-clstat',
  QCSTATUS: 'query-cstatus',
  RCSTATUS: 'respond-cstatus',
  IFSTAT: 'ifstat',
} as const;

/** Types starting with `NS_` are never sequenced (spec 3.2). */
export const isUnsequencedType = (t: string): boolean => t.startsWith('NS_');
