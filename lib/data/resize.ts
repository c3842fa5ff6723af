// DIGITS' four resize modes (squash, crop, fill, half_crop): the geometry as a pure plan, and its application to pixels.
import { sharp as loadSharp } from '../optional-deps.js';
import type { Random } from './random.js';

export type ResizeMode = 'squash' | 'crop' | 'fill' | 'half_crop';
export const RESIZE_MODES: readonly ResizeMode[] = ['squash', 'crop', 'fill', 'half_crop'];

/**
 * How one image becomes width x height, following digits/utils/image.py::resize_image:
 * scale to resizeWidth x resizeHeight (bilinear), then keep the window starting at
 * (cropLeft, cropTop) along a dimension that overflows, and fill bands of padTop rows
 * (or padLeft columns) at both ends of a dimension that falls short with random noise.
 */
export interface ResizePlan {
  resizeWidth: number;
  resizeHeight: number;
  cropLeft: number;
  cropTop: number;
  padLeft: number;
  padTop: number;
}

/** Python 2's round(): half away from zero (equal to Math.round for the positive values used here). */
const round = (value: number): number => Math.round(value);

/** Computes the plan exactly as DIGITS does, including its rounding and its nudge that keeps padding bands equal. */
export function planResize(inWidth: number, inHeight: number, width: number, height: number, mode: ResizeMode): ResizePlan {
  const plan: ResizePlan = { resizeWidth: width, resizeHeight: height, cropLeft: 0, cropTop: 0, padLeft: 0, padTop: 0 };
  if (inWidth === width && inHeight === height) return plan;
  const widthRatio = inWidth / width;
  const heightRatio = inHeight / height;
  if (mode === 'squash' || widthRatio === heightRatio) return plan;
  const wider = widthRatio > heightRatio;
  if (mode === 'crop') {
    // Scale by the smaller ratio so the image covers the target, then centre-crop the long side.
    if (wider) plan.resizeWidth = round(inWidth / heightRatio);
    else plan.resizeHeight = round(inHeight / widthRatio);
  } else if (mode === 'fill') {
    // Scale by the larger ratio so the image fits inside; make the gap even so both bands match.
    // (At least one pixel survives: DIGITS would fail on a 1000 x 1 strip, we keep a thin line.)
    if (wider) {
      plan.resizeHeight = Math.max(1, round(inHeight / widthRatio));
      if ((height - plan.resizeHeight) % 2 === 1) plan.resizeHeight += 1;
    } else {
      plan.resizeWidth = Math.max(1, round(inWidth / heightRatio));
      if ((width - plan.resizeWidth) % 2 === 1) plan.resizeWidth += 1;
    }
  } else {
    // half_crop: scale by the average ratio, crop what is too long and pad what is too short.
    const ratio = (widthRatio + heightRatio) / 2;
    plan.resizeWidth = Math.max(1, round(inWidth / ratio));
    plan.resizeHeight = Math.max(1, round(inHeight / ratio));
    if (wider && (height - plan.resizeHeight) % 2 === 1) plan.resizeHeight += 1;
    else if (!wider && (width - plan.resizeWidth) % 2 === 1) plan.resizeWidth += 1;
  }
  if (wider) {
    plan.cropLeft = Math.max(0, round((plan.resizeWidth - width) / 2));
    plan.padTop = Math.max(0, (height - plan.resizeHeight) / 2);
  } else {
    plan.cropTop = Math.max(0, round((plan.resizeHeight - height) / 2));
    plan.padLeft = Math.max(0, (width - plan.resizeWidth) / 2);
  }
  return plan;
}

/** An 8-bit image held as interleaved H x W x C bytes (RGB or grey). */
export interface RawImage {
  pixels: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/** Scales with a bilinear (triangle) filter, like the PIL resize DIGITS calls through scipy.misc.imresize. */
async function scale(image: RawImage, width: number, height: number): Promise<RawImage> {
  if (image.width === width && image.height === height) return image;
  const resized = loadSharp()(image.pixels, {
    raw: { width: image.width, height: image.height, channels: image.channels as 1 | 3 },
  }).resize(width, height, { fit: 'fill', kernel: 'linear' });
  // sharp widens one band to sRGB on output unless told the image stays grey.
  const { data, info } = await (image.channels === 1 ? resized.toColourspace('b-w') : resized)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { pixels: data, width: info.width, height: info.height, channels: info.channels };
}

/**
 * Noise for one padding band: uniform 0..254 per byte (numpy's randint(0, 255)).
 * DIGITS draws one band and uses it at both ends, so the two bands are identical.
 */
function noiseBand(length: number, random: Random): Uint8Array {
  const band = new Uint8Array(length);
  for (let i = 0; i < length; i++) band[i] = random.int(255);
  return band;
}

/** Copies the scaled image into the width x height result, cropping the long side and noise-padding the short one. */
export function cropAndPad(scaled: RawImage, plan: ResizePlan, width: number, height: number, random: Random): RawImage {
  const channels = scaled.channels;
  const out = new Uint8Array(width * height * channels);
  const rowBytes = width * channels;
  if (plan.padTop > 0) {
    const band = noiseBand(plan.padTop * rowBytes, random);
    out.set(band, 0);
    out.set(band, (height - plan.padTop) * rowBytes);
  }
  const leftBand = plan.padLeft > 0 ? noiseBand(height * plan.padLeft * channels, random) : undefined;
  const innerWidth = width - 2 * plan.padLeft;
  const innerRows = height - 2 * plan.padTop;
  for (let y = 0; y < innerRows; y++) {
    const sourceStart = ((y + plan.cropTop) * scaled.width + plan.cropLeft) * channels;
    const targetStart = (y + plan.padTop) * rowBytes + plan.padLeft * channels;
    out.set(scaled.pixels.subarray(sourceStart, sourceStart + innerWidth * channels), targetStart);
  }
  if (leftBand !== undefined) {
    const bandRow = plan.padLeft * channels;
    for (let y = 0; y < height; y++) {
      const row = leftBand.subarray(y * bandRow, (y + 1) * bandRow);
      out.set(row, y * rowBytes);
      out.set(row, y * rowBytes + rowBytes - bandRow);
    }
  }
  return { pixels: out, width, height, channels };
}

/** Resizes `image` to width x height with DIGITS' `mode`; `random` supplies the padding noise of fill and half_crop. */
export async function resizeImage(image: RawImage, width: number, height: number, mode: ResizeMode, random: Random): Promise<RawImage> {
  const plan = planResize(image.width, image.height, width, height, mode);
  const scaled = await scale(image, plan.resizeWidth, plan.resizeHeight);
  if (scaled.width === width && scaled.height === height) return scaled;
  return cropAndPad(scaled, plan, width, height, random);
}
