// Caffe's Datum message (one LMDB record of an image dataset): encode, decode, and a zero-copy reader for the hot path.
import protobuf from 'protobufjs';

/*
 * The message as declared in BVLC Caffe 1.0, src/caffe/proto/caffe.proto (message Datum):
 *
 *   message Datum {
 *     optional int32 channels = 1;
 *     optional int32 height = 2;
 *     optional int32 width = 3;
 *     // the actual image data, in bytes
 *     optional bytes data = 4;
 *     optional int32 label = 5;
 *     // Optionally, the datum could also hold float data.
 *     repeated float float_data = 6;
 *     // If true data contains an encoded image that need to be decoded
 *     optional bool encoded = 7 [default = false];
 *   }
 *
 * Raw records hold `data` as C x H x W uint8 (colour channels in BGR order, as Caffe's
 * OpenCV-based tools and DIGITS write them). Encoded records hold a whole PNG or JPEG
 * file in `data` with `encoded = true`; the picture inside is ordinary RGB, and
 * channels/height/width describe the decoded image.
 */
const DATUM_PROTO = `
syntax = "proto2";
package caffe;
message Datum {
  optional int32 channels = 1;
  optional int32 height = 2;
  optional int32 width = 3;
  optional bytes data = 4;
  optional int32 label = 5;
  repeated float float_data = 6;
  optional bool encoded = 7 [default = false];
}
`;

const datumType = protobuf.parse(DATUM_PROTO, { keepCase: true }).root.lookupType('caffe.Datum');

/** One image record. `data` is C*H*W uint8 (raw) or the bytes of a PNG/JPEG file (encoded). */
export interface Datum {
  channels: number;
  height: number;
  width: number;
  data: Uint8Array;
  label: number;
  floatData: number[];
  encoded: boolean;
}

/** Serialises a Datum to Caffe's wire format. float_data and encoded are written only when used, as Caffe's tools do. */
export function encodeDatum(datum: Partial<Datum> & Pick<Datum, 'channels' | 'height' | 'width' | 'label'>): Uint8Array {
  const message: Record<string, unknown> = {
    channels: datum.channels,
    height: datum.height,
    width: datum.width,
    label: datum.label,
  };
  if (datum.data !== undefined) message.data = datum.data;
  if (datum.floatData !== undefined && datum.floatData.length > 0) message.float_data = datum.floatData;
  if (datum.encoded) message.encoded = true;
  return datumType.encode(datumType.fromObject(message)).finish();
}

/** Parses a Datum from Caffe's wire format (any field may be absent; defaults as in caffe.proto). */
export function decodeDatum(bytes: Uint8Array): Datum {
  const message = datumType.decode(bytes) as unknown as {
    channels?: number; height?: number; width?: number; data?: Uint8Array;
    label?: number; float_data?: number[]; encoded?: boolean;
  };
  return {
    channels: message.channels ?? 0,
    height: message.height ?? 0,
    width: message.width ?? 0,
    data: message.data ?? new Uint8Array(0),
    label: message.label ?? 0,
    floatData: message.float_data ?? [],
    encoded: message.encoded ?? false,
  };
}

/** The fields the Data layer needs, with `data` a view into the record's bytes (no copy). */
export interface DatumView {
  channels: number;
  height: number;
  width: number;
  label: number;
  encoded: boolean;
  data: Uint8Array;
}

/**
 * Reads a Datum without protobufjs and without copying `data`: the batch source reads
 * thousands of 200 KB records per second, and a generic decoder would copy each one.
 * Handles the wire types Datum uses (varint 0, length-delimited 2, fixed32 5) and skips
 * fixed64 (1) for unknown fields; float_data is not needed by image records and is skipped.
 */
export function readDatumView(bytes: Uint8Array): DatumView {
  const view: DatumView = { channels: 0, height: 0, width: 0, label: 0, encoded: false, data: bytes.subarray(0, 0) };
  let position = 0;
  const readVarint = (): number => {
    let result = 0;
    let multiplier = 1;
    for (;;) {
      if (position >= bytes.length) throw new Error('Truncated Datum record');
      const byte = bytes[position++]!;
      result += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) return result;
      multiplier *= 128;
    }
  };
  while (position < bytes.length) {
    const tag = readVarint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (wireType === 0) {
      const value = readVarint();
      // int32 fields: negative values arrive as 10-byte two's-complement varints.
      const int32 = value > 0x7fffffff ? value - 2 ** 64 : value;
      if (field === 1) view.channels = int32;
      else if (field === 2) view.height = int32;
      else if (field === 3) view.width = int32;
      else if (field === 5) view.label = int32;
      else if (field === 7) view.encoded = value !== 0;
    } else if (wireType === 2) {
      const length = readVarint();
      if (position + length > bytes.length) throw new Error('Truncated Datum record');
      if (field === 4) view.data = bytes.subarray(position, position + length);
      position += length;
    } else if (wireType === 5) {
      position += 4;
    } else if (wireType === 1) {
      position += 8;
    } else {
      throw new Error(`Unsupported wire type ${wireType} in Datum record`);
    }
  }
  return view;
}
