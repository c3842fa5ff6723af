// capture.ts — writable streams that keep what a command prints, for the CLI tests.
import { Writable } from 'node:stream';

export function captureStreams(): { stdout: Writable; stderr: Writable; out: () => string; err: () => string } {
  const chunks = { out: [] as string[], err: [] as string[] };
  const sink = (into: string[]) => new Writable({ write(chunk, _encoding, done) { into.push(String(chunk)); done(); } });
  return { stdout: sink(chunks.out), stderr: sink(chunks.err), out: () => chunks.out.join(''), err: () => chunks.err.join('') };
}
