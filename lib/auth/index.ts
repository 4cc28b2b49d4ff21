/** Public API of the authentication layer. */
export type { AuthMethod, AuthMethodName } from './method.js';
export { crc32Posix, crcMethod } from './crc.js';
export { md5Method } from './md5.js';
export { sha1Method } from './sha1.js';
export { authMethod, isAuthMethodName } from './methods.js';
export {
  Authenticator,
  type AuthCounters, type AuthenticatorOptions, type Verdict,
} from './authenticator.js';
