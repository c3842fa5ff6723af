// lib/caffe's public surface: prototxt reading and printing, the schemas and their types, and the binary .caffemodel/.solverstate/.binaryproto formats.

export { PrototxtError, CaffeBinaryError, type PrototxtErrorCode, type CaffeBinaryErrorCode, type TextPosition } from './errors.js';
export {
  parseTextFormat, isIntegerText, UNNAMED_FILE, MAX_NESTING_DEPTH,
  type TextDocument, type TextField, type TextMessage, type TextScalar, type TextValue, type TextParseOptions,
} from './text-format.js';
export { messageFromText, type MessageReadOptions } from './text-to-message.js';
export {
  parseNetPrototxt, parseSolverPrototxt, parseMessagePrototxt, loadNetPrototxt, loadSolverPrototxt,
} from './prototxt.js';
export { printMessage, printNetPrototxt, printSolverPrototxt, formatNumber, quoteString } from './printer.js';
export { describeField, fieldNames, type FieldDescription, type MessageSchema, type ValueKind } from './schema-fields.js';
export * from './schema.js';
export {
  readCaffemodel, writeCaffemodel, readSolverstate, writeSolverstate, readBinaryproto, writeBinaryproto,
  type CaffeBlob, type CaffeModel, type CaffeModelLayer, type SolverState, type BinaryReadOptions,
} from './binary.js';
export { builtinModelPath, BUILTIN_MODELS, type BuiltinModelName } from './builtin-models.js';
export { encodeDatum, decodeDatum, readDatumView, type Datum, type DatumView } from './datum.js';
