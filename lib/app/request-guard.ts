// request-guard.ts — what a request must show before any route sees it: a Host this server answers to (against DNS rebinding), and for a state-changing request, its own origin (against cross-site requests) and a body type its route takes.
import type { IncomingMessage } from 'node:http';
import os from 'node:os';
import { AppError } from './errors.js';

/** Methods that change something: they get the origin and body type checks. */
export function isStateChanging(method: string | undefined): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

/** The body types a route takes unless it says otherwise: JSON, which no HTML form can send and no other site can send without the browser asking first (a CORS preflight, which this server never grants). */
export const JSON_BODY: readonly string[] = ['application/json'];

/** Addresses that mean "every interface": the machine's own addresses and name are then accepted too. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

/**
 * The Host headers this server answers: `name:port` for 127.0.0.1, localhost, [::1] and the address it
 * listens on (all the machine's addresses and its host name when that is 0.0.0.0 or ::); the bare name too
 * on port 80, where browsers leave the port out. A page of another site whose name an attacker points at
 * this machine (DNS rebinding) sends its own name, so it is refused.
 */
export function acceptedHosts(listenHost: string, port: number): Set<string> {
  const names = new Set(['127.0.0.1', 'localhost', '[::1]', hostName(listenHost)]);
  if (WILDCARD_HOSTS.has(listenHost)) {
    names.add(os.hostname().toLowerCase());
    for (const address of Object.values(os.networkInterfaces()).flat()) {
      // A link-local IPv6 address needs its zone, which a Host header cannot carry as written here.
      if (address && !address.address.includes('%')) names.add(hostName(address.address));
    }
  }
  const hosts = new Set<string>();
  for (const name of names) {
    hosts.add(`${name}:${port}`);
    if (port === 80) hosts.add(name);
  }
  return hosts;
}

/** An address as a Host header writes it: IPv6 in brackets, lower case. */
function hostName(address: string): string {
  return (address.includes(':') ? `[${address}]` : address).toLowerCase();
}

/** 421 Misdirected Request unless the Host header is one the server listens as. */
export function checkHost(request: IncomingMessage, hosts: ReadonlySet<string>): void {
  const host = (request.headers.host ?? '').toLowerCase();
  if (!hosts.has(host)) {
    throw new AppError(421, `This server does not answer to the host name ${JSON.stringify(request.headers.host ?? '')}; open it as http://${[...hosts][0]}`);
  }
}

/**
 * 403 for a state-changing request sent by a page of another origin: browsers say where a request comes from
 * in Sec-Fetch-Site and Origin, and both, when present, must name this server. A request without either
 * (curl, scripts) is not from a browser page and passes.
 */
export function checkSameOrigin(request: IncomingMessage): void {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') throw crossSite(`a page that is not this server's (Sec-Fetch-Site: ${site})`);
  const origin = request.headers.origin;
  if (origin !== undefined && origin.toLowerCase() !== `http://${(request.headers.host ?? '').toLowerCase()}`) throw crossSite(origin);
}

function crossSite(from: string): AppError {
  return new AppError(403, `Refused a request from ${from}: only this server's own pages may change anything`);
}

/** 415 unless the body's content-type is one `accepts` names ('image/*' takes every image type); a request without one is refused too. */
export function checkBodyType(request: IncomingMessage, accepts: readonly string[]): void {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const accepted = accepts.some((pattern) => (pattern.endsWith('/*') ? type.startsWith(pattern.slice(0, -1)) && type.length > pattern.length - 1 : type === pattern));
  if (!accepted) {
    throw new AppError(415, `Send this request with content-type ${accepts.join(' or ')}${type ? `, not ${type}` : ' (it had none)'}`);
  }
}
