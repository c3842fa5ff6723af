// The one place inference builds a Net: a deploy prototxt in the TEST phase on a device.
import type { Device } from '../device.js';
import type { NetLike } from '../net/contract.js';
import { Net } from '../net/index.js';

/** Builds the deploy net (phase TEST, stage "deploy", as DIGITS splits its networks). */
export function buildDeployNet(text: string, device: Device, file: string): NetLike {
  return Net.fromPrototxt(text, { phase: 'TEST', stages: ['deploy'], device, file });
}
