import { describe, expect, it } from 'vitest';
import { envSinkConfig, ipfailFacility } from '../../../daemon/ipfail.js';

describe('ipfail logs to syslog as 3.0.6\'s ipfail', () => {
  it('HA_LOGFACILITY (else daemon) until sign-on, then the one heartbeat hands out (LOG_LOCAL0 = 128); none: daemon', () => {
    expect(envSinkConfig({}).logfacility).toBe('daemon');
    expect(envSinkConfig({ HA_LOGFACILITY: 'local0' }).logfacility).toBe('local0');
    expect(envSinkConfig({ HA_LOGFACILITY: 'none' }).logfacility).toBe('daemon');
    expect(ipfailFacility(128)).toBe('local0');
    expect(ipfailFacility(3 * 8)).toBe('daemon');
    expect(ipfailFacility(-1)).toBe('daemon');
    expect(ipfailFacility(0)).toBe('daemon');
    expect(ipfailFacility(7)).toBe('daemon');
  });
});
