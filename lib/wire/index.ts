/** Public API of the wire layer: the message model and both wire formats. */
export { FieldType, HaMsg, type Field, type FieldTypeCode } from './message.js';
export { F, T, isUnsequencedType } from './fields.js';
export {
  MAXMSG, MAX_DEPTH, MAX_FIELDS, MAX_NAME_LEN,
  type DecodeFail, type DecodeOk, type DecodeResult, type WireFormat,
} from './result.js';
export { classicFieldsText, decodeClassic, encodeClassic, type ClassicDecodeResult } from './classic.js';
export { MAX_TRAILER_LEN, decodeNetstring, encodeNetstring, type NetstringDecodeResult } from './netstring.js';
export { COMPRESSED_PAYLOAD, decodeDatagram, type DatagramDecodeResult } from './codec.js';
