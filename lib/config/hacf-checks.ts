/**
 * What heartbeat does after reading ha.cf (init_config): apply defaults,
 * compute the derived times, and check the whole configuration. Order and
 * wording follow heartbeat 3.0.6; each problem points at the line of the
 * directive concerned, or 0 when none was written.
 */
import { DIRECTIVES } from './directives.js';
import { addDefaultApiAuth } from './wholeline.js';
import { msText } from './time.js';
import { DEFAULT_UDPPORT, report, type ParseContext } from './state.js';

/** Version string heartbeat records as the `hbversion` parameter. */
export const HB_VERSION = '3.0.6';

export function finishConfig(ctx: ParseContext): void {
  addDefaultApiAuth(ctx);
  applyDefaults(ctx);
  checkMediaAndNodes(ctx);
  checkTimes(ctx);
  const { cfg } = ctx;
  if (cfg.raw['udpport'] === undefined) {
    cfg.udpport = ctx.services.get('ha-cluster') ?? DEFAULT_UDPPORT;
    cfg.raw['udpport'] = String(cfg.udpport);
  }
  const v1 = ctx.manageResources && !cfg.crm;
  if (v1 && !ctx.niceFailback) {
    report(ctx, 'warning', 'HACF_LEGACY_FAILBACK',
      "Deprecated 'legacy' auto_failback option selected. Please convert to 'auto_failback on'. "
      + 'See documentation for conversion details.', at(ctx, 'auto_failback'));
  }
  checkLogging(ctx);
  if (v1 && cfg.autojoin !== 'none') {
    // The double space is heartbeat's.
    report(ctx, 'error', 'HACF_AUTOJOIN_R1',
      'R1 style resource management conflicts with  autojoin set. You need either unset autojoin or enable crm',
      at(ctx, 'autojoin'));
  }
  cfg.raw['hbversion'] = HB_VERSION;
}

/** Line of the last accepted occurrence of the first directive of `names` that was written, else 0. */
function at(ctx: ParseContext, ...names: string[]): number {
  for (const n of names) {
    const l = ctx.lineOf.get(n);
    if (l !== undefined) return l;
  }
  return 0;
}

/** Heartbeat applies each fixed default through the directive's own handler, silently. */
function applyDefaults(ctx: ParseContext): void {
  const { cfg } = ctx;
  ctx.quiet = true;
  ctx.line = 0;
  for (const d of DIRECTIVES) {
    if (d.default === undefined || cfg.raw[d.name] !== undefined) continue;
    if (d.apply(d.default, ctx)) cfg.raw[d.name] = d.default;
  }
  ctx.quiet = false;
  cfg.raw['debug'] ??= String(cfg.debug);
}

function checkMediaAndNodes(ctx: ParseContext): void {
  const { cfg } = ctx;
  if (ctx.mediaCount < 1) report(ctx, 'error', 'HACF_NO_MEDIA', 'No heartbeat media defined', 0);
  if (cfg.raw['warntime'] === undefined) {
    cfg.warntimeMs = Math.trunc(cfg.deadtimeMs / 2);
    cfg.raw['warntime'] = msText(cfg.warntimeMs);
  }
  if (cfg.nodes.length < 1 && cfg.autojoin !== 'any') report(ctx, 'error', 'HACF_NO_NODES', 'no nodes defined', 0);
  const me = ctx.nodename;
  if (cfg.nodes.includes(me) || ctx.pingNodes.includes(me)) return;
  if (cfg.autojoin === 'any') {
    cfg.nodes.push(me);
    report(ctx, 'info', 'HACF_NODE_ADDED', `Current node [${me}] added to configuration.`, 0);
    return;
  }
  report(ctx, 'error', 'HACF_NODE_NOT_IN_CONFIG',
    `Current node [${me}] not in configuration! Cluster nodes are named by \`uname -n\` (or the first line of `
    + 'nodeinfo) and must be declared with a node directive.', at(ctx, 'node'));
}

function checkTimes(ctx: ParseContext): void {
  const { cfg } = ctx;
  const keep = cfg.keepaliveMs;
  if (cfg.deadtimeMs <= 2 * keep) {
    report(ctx, 'error', 'HACF_DEADTIME_TOO_SMALL',
      `Dead time [${cfg.deadtimeMs}] is too small compared to keeplive [${keep}]: `
      + 'deadtime must be more than twice keepalive', at(ctx, 'deadtime', 'keepalive'));
  }
  if (cfg.raw['initdead'] === undefined) {
    const dt = cfg.deadtimeMs;
    cfg.initdeadMs = dt > 10000 ? dt : dt < 6000 ? 12000 : 2 * dt;
    cfg.raw['initdead'] = msText(cfg.initdeadMs);
  }
  if (cfg.initdeadMs < cfg.deadtimeMs) {
    report(ctx, 'error', 'HACF_INITDEAD_TOO_SMALL',
      `Initial dead time [${cfg.initdeadMs}] is smaller than deadtime [${cfg.deadtimeMs}]: initdead must be >= deadtime`,
      at(ctx, 'initdead', 'deadtime'));
  } else if (cfg.initdeadMs < 10000) {
    report(ctx, 'warning', 'HACF_INITDEAD_SHORT',
      `Initial dead time [${cfg.initdeadMs} ms] may be too small! Initial dead time accounts for slow network `
      + 'startup time. It should be >= deadtime and >= 10 seconds', at(ctx, 'initdead', 'deadtime'));
  }
  if (cfg.raw['deadping'] === undefined) {
    cfg.deadpingMs = cfg.deadtimeMs;
    cfg.raw['deadping'] = msText(cfg.deadpingMs);
  } else if (cfg.deadpingMs <= 2 * keep) {
    report(ctx, 'error', 'HACF_DEADPING_TOO_SMALL',
      `Ping dead time [${cfg.deadpingMs}] is too small compared to keeplive [${keep}]: `
      + 'deadping must be more than twice keepalive', at(ctx, 'deadping'));
  }
  // Heartbeat 3.0.6 does not check this; a warntime outside (keepalive, deadtime) makes its warnings useless.
  const warnLine = ctx.lineOf.get('warntime');
  if (warnLine !== undefined && (cfg.warntimeMs <= keep || cfg.warntimeMs >= cfg.deadtimeMs)) {
    report(ctx, 'warning', 'HACF_WARNTIME_RANGE',
      `warntime [${cfg.warntimeMs} ms] must be greater than keepalive [${keep} ms] and less than deadtime `
      + `[${cfg.deadtimeMs} ms] to be useful; heartbeat accepts it anyway`, warnLine);
  }
}

/** heartbeat's check_logd_usage, plus the /dev/null log files it records when only syslog is used. */
function checkLogging(ctx: ParseContext): void {
  const { cfg } = ctx;
  const written = cfg.raw['use_logd'];
  const line = at(ctx, 'use_logd');
  const noLogs = cfg.logfile === undefined && cfg.debugfile === undefined && cfg.logfacility === undefined;
  if (noLogs) {
    if (written === undefined) {
      report(ctx, 'info', 'HACF_LOGD_IMPLIED', 'No log entry found in ha.cf -- use logd', 0);
      cfg.raw['use_logd'] = 'yes';
      cfg.useLogd = true;
    } else if (!cfg.useLogd) {
      report(ctx, 'error', 'HACF_NO_LOG',
        'No log entry found in ha.cf and use_logd is set to off: set logfile, debugfile or logfacility', line);
    }
  } else if (written === undefined || !cfg.useLogd) {
    report(ctx, 'warning', 'HACF_LOGD_DISABLED', 'Logging daemon is disabled --enabling logging daemon is recommended', line);
  } else {
    // heartbeat always names logfile and debugfile here, whichever is set.
    const fac = cfg.logfacility !== undefined ? '/logfacility' : '';
    report(ctx, 'warning', 'HACF_LOGD_AND_FILES', `logd is enabled but logfile/debugfile${fac} is still configured in ha.cf`, line);
  }
  if (cfg.logfacility !== undefined) {
    if (cfg.logfile === undefined) cfg.raw['logfile'] = '/dev/null';
    if (cfg.debugfile === undefined) cfg.raw['debugfile'] = '/dev/null';
  }
}
