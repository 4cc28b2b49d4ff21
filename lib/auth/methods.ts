/** Lookup of the authentication methods by their authkeys name. */
import { AUTH_ERRORS, HbError } from '../util/errors.js';
import { crcMethod } from './crc.js';
import { md5Method } from './md5.js';
import type { AuthMethod, AuthMethodName } from './method.js';
import { sha1Method } from './sha1.js';

const METHODS: Readonly<Record<AuthMethodName, AuthMethod>> = Object.freeze({
  crc: crcMethod,
  md5: md5Method,
  sha1: sha1Method,
});

export const isAuthMethodName = (name: string): name is AuthMethodName =>
  Object.prototype.hasOwnProperty.call(METHODS, name);

/** The method of that name; throws HbError AUTH_UNKNOWN_METHOD for any other name. */
export function authMethod(name: string): AuthMethod {
  if (!isAuthMethodName(name)) throw new HbError(AUTH_ERRORS.UNKNOWN_METHOD, `unknown authentication method "${name}" (known: crc, md5, sha1)`);
  return METHODS[name];
}
