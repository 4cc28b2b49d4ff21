/** What a single health check gets and returns. */
import type { Protocol, ServiceName } from '../types.js';

export interface CheckContext {
  /** Real server address and the port to check (checkport or the real's port). */
  host: string;
  port: number;
  /** The real server's own port (for external checks). */
  realPort: number;
  protocol: Protocol;
  service: ServiceName;
  /** Path (`/index.html`) or an absolute URL from a per-real override. */
  request: string;
  /** Regular expression; empty matches anything. */
  receive: string;
  httpmethod: 'GET' | 'HEAD';
  virtualhost: string | undefined;
  login: string;
  passwd: string;
  /** Virtual service address (or fwmark as text) and port, for external checks. */
  virtualHost: string;
  virtualPort: number;
  checkcommand: string;
  checkcount: number;
  /** Seconds, for ping's own per-attempt deadline. */
  checktimeoutS: number;
  /** This host's name for EHLO and the like. */
  hostname: string;
}

export interface CheckOutcome {
  up: boolean;
  /** Why: status line, error, `timed out`. Logged and written to monitorfile. */
  message: string;
}
