/**
 * Side effects a change of health triggers besides the table: the
 * per-virtual monitor file, e-mail alerts and the fallback command. Each
 * runs without blocking the checks and reports failures to the log.
 */
import { appendFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from '../util/log.js';
import { run } from './exec.js';

/** `[date] [pid] rip rport [up|down] message`, with | CR LF % escaped. */
export function monitorLine(date: Date, pid: number, address: string, port: number, up: boolean, message: string): string {
  const esc = message.replace(/[%|\r\n]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `[${date.toString().slice(0, 24)}] [${pid}] ${address} ${port} [${up ? 'up' : 'down'}] ${esc || '-'}\n`;
}

export async function appendMonitor(file: string, line: string, logger: Logger): Promise<void> {
  try {
    await appendFile(file, line);
  } catch (e) {
    logger.error(`Error writing to monitorfile '${file}': ${(e as Error).message}`);
  }
}

const SENDMAIL = ['/usr/sbin/sendmail', '/usr/lib/sendmail'];

/**
 * Sends an alert through the local sendmail. heartbeat-ts does not carry
 * an SMTP client for alerts: without sendmail the alert is only logged.
 */
export async function sendAlert(to: string, subject: string, from: string | undefined, status: string, logger: Logger): Promise<void> {
  logger.info(`emailalert: ${subject}`);
  const bin = SENDMAIL.find((p) => existsSync(p));
  if (!bin) {
    logger.warn('emailalert: no sendmail binary found, alert not mailed');
    return;
  }
  const body = `${from ? `From: ${from}\n` : ''}To: ${to}\nSubject: ${subject}\n\n` +
    `ldirectord host: ${hostname()}\nLog-Message: ${subject}\nDaemon-Status: ${status}\n`;
  const res = await run(bin, ['-t'], { input: body, timeoutMs: 30_000 });
  if (res.code !== 0) logger.error(`failed to send email message: ${res.stderr.trim() || res.spawnError || `exit ${String(res.code)}`}`);
}

/** Runs `command start|stop` through the shell, as ldirectord's system() does. */
export async function fallbackCommand(command: string, arg: 'start' | 'stop', logger: Logger): Promise<void> {
  logger.info(`Running fallback command: ${command} ${arg}`);
  const res = await run('/bin/sh', ['-c', `${command} ${arg}`], { timeoutMs: 60_000 });
  if (res.code !== 0) logger.error(`system(${command} ${arg}) failed: ${res.stderr.trim() || res.spawnError || `exit ${String(res.code)}`}`);
}
