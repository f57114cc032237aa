export { UserError } from './errors.js';
export { parseJsonRecord, stringifyJsonRecord } from './formats/json-record.js';
