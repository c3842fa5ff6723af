// server.ts — the HTTP server of `cudnet serve`: the JSON API under /api, live events, and the pages of lib/app/public.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { AppError } from './errors.js';
import { sendError, serveStatic } from './http.js';
import { JobManager } from './jobs.js';
import { publicFolder } from './paths.js';
import { apiRoutes, type Route } from './routes.js';
import { EventHub } from './events.js';
import { ModelCache } from './model-cache.js';
import { acceptedHosts, checkBodyType, checkHost, checkSameOrigin, isStateChanging, JSON_BODY } from './request-guard.js';
import { cleanUploads, DEFAULT_UPLOADS_MAX_AGE_HOURS, DEFAULT_WEIGHTS_UPLOAD_LIMIT } from './uploads.js';

export interface ServerOptions {
  host?: string;
  port?: number;
  jobsDir?: string;
  dataRoots?: string[];
  /** Largest image upload in bytes (default 10 MiB). */
  uploadLimit?: number;
  /** Largest pretrained-weights upload in bytes (default 1024 MiB). */
  weightsUploadLimit?: number;
  /** Uploaded weights no model names are deleted this many hours after their upload (default 24; 0 keeps them). */
  uploadsMaxAgeHours?: number;
}

export interface AppContext {
  jobs: JobManager;
  dataRoots: string[];
  uploadLimit: number;
  weightsUploadLimit: number;
  uploadsMaxAgeHours: number;
  models: ModelCache;
  events: EventHub;
}

/** Pages: the path pattern and the HTML file that renders it (the page's script reads ids from the URL). */
const PAGES: [RegExp, string][] = [
  [/^\/$/, 'index.html'],
  [/^\/datasets\/new$/, 'dataset-new.html'],
  [/^\/datasets\/[\w-]+$/, 'dataset.html'],
  [/^\/models\/new$/, 'model-new.html'],
  [/^\/models\/[\w-]+$/, 'model.html'],
];

export async function startServer(options: ServerOptions = {}): Promise<{ url: string; close(): Promise<void>; context: AppContext }> {
  const dataRoots = (options.dataRoots ?? []).map((root) => path.resolve(root));
  const jobs = new JobManager(path.resolve(options.jobsDir ?? path.join(os.homedir(), '.cudnet', 'jobs')), dataRoots);
  await jobs.load();
  const context: AppContext = {
    jobs, dataRoots, uploadLimit: options.uploadLimit ?? 10 << 20,
    weightsUploadLimit: options.weightsUploadLimit ?? DEFAULT_WEIGHTS_UPLOAD_LIMIT,
    uploadsMaxAgeHours: options.uploadsMaxAgeHours ?? DEFAULT_UPLOADS_MAX_AGE_HOURS,
    models: new ModelCache(), events: new EventHub(jobs),
  };
  // At start no upload can be in progress, so unfinished ones go too; then hourly, the unused old uploads.
  await cleanUploads(jobs, context.uploadsMaxAgeHours, true);
  const sweeper = setInterval(() => void cleanUploads(jobs, context.uploadsMaxAgeHours, false).catch(() => {}), 3600e3);
  sweeper.unref();
  const routes = apiRoutes(context);
  const listenHost = options.host ?? '127.0.0.1';
  // Filled once the port is known, before the first request can arrive.
  let hosts = new Set<string>();
  const server = createServer((request, response) => void handle(request, response, routes, context, hosts));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 5000, listenHost, () => {
      hosts = acceptedHosts(listenHost, (server.address() as AddressInfo).port);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    context,
    async close() {
      clearInterval(sweeper);
      context.events.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await jobs.close();
      await context.models.clear();
    },
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, routes: Route[], context: AppContext, hosts: ReadonlySet<string>): Promise<void> {
  try {
    checkHost(request, hosts);
    if (isStateChanging(request.method)) checkSameOrigin(request);
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname === '/api/events') return context.events.subscribe(request, response);
    if (url.pathname.startsWith('/api/')) return await dispatch(request, response, url, routes);
    if (request.method !== 'GET' && request.method !== 'HEAD') throw new AppError(405, `${request.method} is not allowed here`);
    const page = PAGES.find(([pattern]) => pattern.test(url.pathname));
    const folder = publicFolder();
    if (page && (await serveStatic(response, folder, page[1]))) return;
    if (url.pathname.startsWith('/static/') && (await serveStatic(response, folder, url.pathname.slice('/static/'.length)))) return;
    throw new AppError(404, `${url.pathname} does not exist`);
  } catch (error) {
    sendError(response, error);
  }
}

async function dispatch(request: IncomingMessage, response: ServerResponse, url: URL, routes: Route[]): Promise<void> {
  let pathMatched = false;
  for (const route of routes) {
    const match = route.pattern.exec(url.pathname);
    if (!match) continue;
    pathMatched = true;
    if (route.method !== request.method) continue;
    if (isStateChanging(request.method)) checkBodyType(request, route.accepts ?? JSON_BODY);
    return route.handle({ request, response, url, params: match.slice(1) });
  }
  throw new AppError(pathMatched ? 405 : 404, pathMatched ? `${request.method} is not allowed on ${url.pathname}` : `No API endpoint ${url.pathname}`);
}
