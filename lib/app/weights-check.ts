// weights-check.ts — checks that a file is a Caffe NetParameter with weights (a .caffemodel), parsing it in a child process off the event loop.
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WeightsCheckReply } from './weights-check-worker.js';

/** The names of the layers that carry weights; throws with a message for the form when the file is not a usable .caffemodel. */
export async function checkCaffemodel(file: string, label = file): Promise<string[]> {
  const reply = await new Promise<WeightsCheckReply>((resolve, reject) => {
    const child = fork(checkScript(), [file, label], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    let answer: WeightsCheckReply | undefined;
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.once('message', (message: WeightsCheckReply) => (answer = message));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (answer) resolve(answer);
      else reject(new Error(`The weights check ended with ${signal ?? `code ${code}`}: ${stderr.trim().split('\n').pop() ?? ''}`));
    });
  });
  if (!reply.ok) throw new Error(reply.message);
  if (reply.withWeights.length === 0) throw new Error(`${label} holds no weights (none of its ${reply.layers} layer(s) has blobs)`);
  return reply.withWeights;
}

/** weights-check-worker.js beside this file once compiled; the .ts when run from the sources (the loader is inherited through execArgv). */
function checkScript(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const compiled = path.join(here, 'weights-check-worker.js');
  return existsSync(compiled) ? compiled : path.join(here, 'weights-check-worker.ts');
}
