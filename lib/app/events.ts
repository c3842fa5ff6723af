// events.ts — server-sent events: every job change and training metric, pushed to each open /api/events stream.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JobManager } from './jobs.js';
import { jobSummary } from './views.js';

export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(jobs: JobManager) {
    jobs.on('job', (job) => this.broadcast('job', jobSummary(job)));
    jobs.on('metric', (event) => this.broadcast('metric', event));
    jobs.on('deleted', (event) => this.broadcast('deleted', event));
    // A comment line now and then keeps proxies from closing an idle stream.
    this.heartbeat = setInterval(() => this.clients.forEach((client) => client.write(': keep-alive\n\n')), 15000);
    this.heartbeat.unref();
  }

  subscribe(request: IncomingMessage, response: ServerResponse): void {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    response.write('retry: 2000\n\n');
    this.clients.add(response);
    request.on('close', () => this.clients.delete(response));
  }

  private broadcast(event: string, data: unknown): void {
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const client of this.clients) client.write(text);
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const client of this.clients) client.end();
    this.clients.clear();
  }
}
