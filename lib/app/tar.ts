// tar.ts — a minimal ustar writer: regular files only, enough for a model archive that `tar -x` and DIGITS read.

/** One file of the archive. */
export interface TarEntry {
  name: string;
  data: Uint8Array;
  mtime?: Date;
}

const BLOCK = 512;

/** The archive: a 512-byte header and the data padded to 512 bytes per file, then two empty blocks. */
export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(header(entry));
    parts.push(Buffer.from(entry.data));
    const padding = (BLOCK - (entry.data.byteLength % BLOCK)) % BLOCK;
    if (padding > 0) parts.push(Buffer.alloc(padding));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

/** ustar header: fixed-width ASCII fields, numbers in octal, checksum over the header with its own field as spaces. */
function header(entry: TarEntry): Buffer {
  if (Buffer.byteLength(entry.name) > 100) throw new Error(`tar: name longer than 100 bytes: ${entry.name}`);
  const block = Buffer.alloc(BLOCK);
  const field = (offset: number, length: number, text: string) => block.write(text, offset, length, 'ascii');
  const octal = (offset: number, length: number, value: number) => field(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
  block.write(entry.name, 0, 100, 'utf8');
  octal(100, 8, 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, entry.data.byteLength);
  octal(136, 12, Math.floor((entry.mtime ?? new Date()).getTime() / 1000));
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  let sum = 0;
  for (const byte of block) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}
