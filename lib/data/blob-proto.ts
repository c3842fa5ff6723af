// Mean images as Caffe BlobProto files (.binaryproto): write (num=1, C, H, W + float data) and read back.
// Kept here until lib/caffe/proto.ts provides the shared reader and writer; the wire format is Caffe's.
import { readFile, writeFile } from 'node:fs/promises';
import protobuf from 'protobufjs';

/*
 * From BVLC Caffe 1.0, src/caffe/proto/caffe.proto:
 *   message BlobShape { repeated int64 dim = 1 [packed = true]; }
 *   message BlobProto {
 *     optional BlobShape shape = 7;
 *     repeated float data = 5 [packed = true];
 *     repeated float diff = 6 [packed = true];
 *     repeated double double_data = 8 [packed = true];
 *     repeated double double_diff = 9 [packed = true];
 *     optional int32 num = 1 [default = 0];       // legacy 4-D dimensions
 *     optional int32 channels = 2 [default = 0];
 *     optional int32 height = 3 [default = 0];
 *     optional int32 width = 4 [default = 0];
 *   }
 * DIGITS writes the mean with the legacy num/channels/height/width and `data`, which is what we write.
 */
const BLOB_PROTO = `
syntax = "proto2";
package caffe;
message BlobShape { repeated int64 dim = 1 [packed = true]; }
message BlobProto {
  optional BlobShape shape = 7;
  repeated float data = 5 [packed = true];
  repeated float diff = 6 [packed = true];
  repeated double double_data = 8 [packed = true];
  repeated double double_diff = 9 [packed = true];
  optional int32 num = 1 [default = 0];
  optional int32 channels = 2 [default = 0];
  optional int32 height = 3 [default = 0];
  optional int32 width = 4 [default = 0];
}
`;

const blobType = protobuf.parse(BLOB_PROTO, { keepCase: true }).root.lookupType('caffe.BlobProto');

/** A C x H x W float image (the mean of a dataset, in the records' channel order). */
export interface MeanBlob {
  channels: number;
  height: number;
  width: number;
  data: Float32Array;
}

export function encodeMeanBlob(mean: MeanBlob): Uint8Array {
  const message = blobType.fromObject({ num: 1, channels: mean.channels, height: mean.height, width: mean.width, data: Array.from(mean.data) });
  return blobType.encode(message).finish();
}

/** Reads a BlobProto holding one image: legacy num/channels/height/width or `shape` (N, C, H, W), float or double data. */
export function decodeMeanBlob(bytes: Uint8Array): MeanBlob {
  const message = blobType.toObject(blobType.decode(bytes), { longs: Number, defaults: true }) as {
    shape?: { dim: number[] }; data: number[]; double_data: number[]; num: number; channels: number; height: number; width: number;
  };
  let [channels, height, width] = [message.channels, message.height, message.width];
  const dims = message.shape?.dim ?? [];
  if (dims.length > 0) [channels, height, width] = dims.length === 4 ? [dims[1]!, dims[2]!, dims[3]!] : dims.length === 3 ? [dims[0]!, dims[1]!, dims[2]!] : [1, 1, dims.reduce((a, b) => a * b, 1)];
  const values = message.data.length > 0 ? message.data : message.double_data;
  if (values.length !== channels * height * width || values.length === 0) {
    throw new Error(`BlobProto holds ${values.length} values for shape ${channels}x${height}x${width}`);
  }
  return { channels, height, width, data: Float32Array.from(values) };
}

export async function writeMeanBinaryproto(file: string, mean: MeanBlob): Promise<void> {
  await writeFile(file, encodeMeanBlob(mean));
}

export async function readMeanBinaryproto(file: string): Promise<MeanBlob> {
  return decodeMeanBlob(await readFile(file));
}
