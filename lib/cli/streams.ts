// streams.ts — where a command writes: process.stdout/stderr from the bin, buffers in tests.
export interface CliStreams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}
