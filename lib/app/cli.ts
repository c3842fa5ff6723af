// cli.ts — `cudnet serve`: starts the training app and keeps it running until Ctrl-C.
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { messageOf } from './errors.js';
import { startServer } from './server.js';

export const SERVE_USAGE = `Usage: cudnet serve [options]

Starts the training app (DIGITS' workflow in the browser): datasets, models, live training charts, classification.

Options:
  --host <address>      where to listen (default 127.0.0.1: only this machine); requests must name this
                        host, 127.0.0.1, localhost or [::1] (with 0.0.0.0 or ::, also its name and addresses)
  --port <n>            port (default 5000; 0 picks a free one)
  --jobs-dir <folder>   where jobs are kept (default ~/.cudnet/jobs)
  --data-root <folder>  a folder whose images datasets may be made from (repeatable); no other server path is read
  --upload-limit <MiB>  largest image upload (default 10)
  --max-weights-upload-mb <MiB>  largest pretrained .caffemodel upload (default 1024)
  --keep-uploads-hours <h>       delete uploaded weights no model uses this long after upload (default 24; 0 keeps them)
  -h, --help            this text`;

/** Returns the exit code: 0 after Ctrl-C, 2 on bad usage, 1 when the server cannot start. */
export async function runServeCli(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv, allowPositionals: false, strict: true,
      options: {
        host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '5000' },
        'jobs-dir': { type: 'string', default: path.join(os.homedir(), '.cudnet', 'jobs') },
        'data-root': { type: 'string', multiple: true, default: [] }, 'upload-limit': { type: 'string', default: '10' },
        'max-weights-upload-mb': { type: 'string', default: '1024' }, 'keep-uploads-hours': { type: 'string', default: '24' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    process.stderr.write(`${messageOf(error)}\n\n${SERVE_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${SERVE_USAGE}\n`);
    return 0;
  }
  const port = Number(values.port);
  const uploadMiB = Number(values['upload-limit']);
  const weightsMiB = Number(values['max-weights-upload-mb']);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || !(uploadMiB > 0) || !(weightsMiB > 0)) {
    process.stderr.write(`Expected a port 0..65535 and upload limits > 0 but received ${values.port}, ${values['upload-limit']} and ${values['max-weights-upload-mb']}\n`);
    return 2;
  }
  const keepHours = Number(values['keep-uploads-hours']);
  if (values['keep-uploads-hours'].trim() === '' || !(keepHours >= 0)) {
    process.stderr.write(`Expected a number of hours >= 0 for --keep-uploads-hours but received ${values['keep-uploads-hours']}\n`);
    return 2;
  }
  try {
    const server = await startServer({
      host: values.host, port, jobsDir: values['jobs-dir'], dataRoots: values['data-root'] as string[], uploadLimit: Math.round(uploadMiB * 1024 * 1024),
      weightsUploadLimit: Math.round(weightsMiB * 1024 * 1024), uploadsMaxAgeHours: keepHours,
    });
    process.stdout.write(`cudnet serve: ${server.url} (jobs in ${server.context.jobs.jobsDir}; Ctrl-C stops)\n`);
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    await server.close();
    return 0;
  } catch (error) {
    process.stderr.write(`cudnet serve: ${messageOf(error)}\n`);
    return 1;
  }
}
