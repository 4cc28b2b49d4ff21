/**
 * Field names and message types of Heartbeat's client API (ha_msg.h,
 * hb_api_core.h) on top of the wire layer's: the API's own, declared once.
 */
import { F as WIRE_F, T as WIRE_T } from '../../lib/wire/index.js';

export { HaMsg } from '../../lib/wire/index.js';

export const F = {
  ...WIRE_F,
  APIREQ: 'reqtype',
  PID: 'pid',
  UID: 'uid',
  GID: 'gid',
  SUBTYPE: 'subt',
  NODENAME: 'node',
  NODETYPE: 'nodetype',
  NUMNODES: 'numnodes',
  WEIGHT: 'weight',
  SITE: 'site',
  PNAME: 'pname',
  PVALUE: 'pvalue',
  RESOURCES: 'rsc_hold',
  DEADTIME_MS: 'deadtime',
  KEEPALIVE_MS: 'keepalive',
  LOGFACILITY: 'logfacility',
  FILTERMASK: 'fmask',
  SIGNAL: 'signal',
  SENDQLEN: 'sendqlen',
  QUERYNAME: 'queryname',
  QUERYUUID: 'queryuuid',
  HBVERSION: 'hbversion',
  PACEMAKER: 'pacemaker',
} as const;

export const T = {
  ...WIRE_T,
  APIREQ: 'hbapi-req',
  APIRESP: 'hbapi-resp',
} as const;

/** API result codes (hb_api_core.h). */
export const API_OK = 'OK';
export const API_BADREQ = 'badreq';
export const API_MORE = 'ok/more';
