// reference.ts — plain float64 references of the layers' forward passes, written for clarity, for the layer tests.

/** Caffe's convolution: x [N, C, H, W], w [K, C/G, kh, kw], b [K]; floor output size. */
export function convolution(x: Float32Array, [N, C, H, W]: number[], w: Float32Array, [K, , kh, kw]: number[],
  b: Float32Array | null, { pad = [0, 0], stride = [1, 1], group = 1 } = {}): { y: Float64Array; shape: number[] } {
  const outH = Math.floor((H + 2 * pad[0] - kh) / stride[0]) + 1;
  const outW = Math.floor((W + 2 * pad[1] - kw) / stride[1]) + 1;
  const y = new Float64Array(N * K * outH * outW);
  const perGroupIn = C / group, perGroupOut = K / group;
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) for (let oh = 0; oh < outH; oh++) for (let ow = 0; ow < outW; ow++) {
    const g = Math.floor(k / perGroupOut);
    let sum = b ? b[k] : 0;
    for (let c = 0; c < perGroupIn; c++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const h = oh * stride[0] - pad[0] + i, x_ = ow * stride[1] - pad[1] + j;
      if (h < 0 || h >= H || x_ < 0 || x_ >= W) continue;
      sum += x[((n * C + g * perGroupIn + c) * H + h) * W + x_] * w[((k * perGroupIn + c) * kh + i) * kw + j];
    }
    y[((n * K + k) * outH + oh) * outW + ow] = sum;
  }
  return { y, shape: [N, K, outH, outW] };
}

/** y[M, N] = x[M, K] * W^T + b with W [N, K] (or [K, N] transposed). */
export function innerProduct(x: Float32Array, M: number, K: number, w: Float32Array, N: number, b: Float32Array | null,
  transpose = false): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let sum = b ? b[n] : 0;
    for (let k = 0; k < K; k++) sum += x[m * K + k] * (transpose ? w[k * N + n] : w[n * K + k]);
    y[m * N + n] = sum;
  }
  return y;
}

/** Caffe's pooling (ceil output size, clipped when padded; AVE divisor counts padding, not overhang). */
export function pooling(x: Float32Array, [N, C, H, W]: number[], method: 'MAX' | 'AVE', kernel: number, stride: number,
  pad: number): { y: Float64Array; shape: number[] } {
  const size = (input: number) => {
    let out = Math.ceil((input + 2 * pad - kernel) / stride) + 1;
    if (pad > 0 && (out - 1) * stride >= input + pad) out--;
    return out;
  };
  const outH = size(H), outW = size(W);
  const y = new Float64Array(N * C * outH * outW);
  for (let p = 0; p < N * C; p++) for (let oh = 0; oh < outH; oh++) for (let ow = 0; ow < outW; ow++) {
    const hs = oh * stride - pad, ws = ow * stride - pad;
    const he = Math.min(hs + kernel, H + pad), we = Math.min(ws + kernel, W + pad);
    const divisor = (he - hs) * (we - ws);
    let best = -Infinity, sum = 0;
    for (let h = Math.max(hs, 0); h < Math.min(he, H); h++) for (let w = Math.max(ws, 0); w < Math.min(we, W); w++) {
      const v = x[(p * H + h) * W + w];
      best = Math.max(best, v);
      sum += v;
    }
    y[(p * outH + oh) * outW + ow] = method === 'MAX' ? best : sum / divisor;
  }
  return { y, shape: [N, C, outH, outW] };
}

/** LRN across channels (alpha/n) or within a channel (alpha/n^2, shift 1). */
export function lrn(x: Float32Array, [N, C, H, W]: number[], n: number, alpha: number, beta: number, k: number,
  region: 'ACROSS_CHANNELS' | 'WITHIN_CHANNEL'): Float64Array {
  const y = new Float64Array(x.length);
  const half = (n - 1) / 2;
  const at = (b: number, c: number, h: number, w: number) => x[((b * C + c) * H + h) * W + w];
  for (let b = 0; b < N; b++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    let sum = 0;
    let scale: number;
    if (region === 'ACROSS_CHANNELS') {
      for (let cc = Math.max(0, c - half); cc <= Math.min(C - 1, c + half); cc++) sum += at(b, cc, h, w) ** 2;
      scale = k + (alpha / n) * sum;
    } else {
      for (let hh = h - half; hh <= h + half; hh++) for (let ww = w - half; ww <= w + half; ww++)
        if (hh >= 0 && hh < H && ww >= 0 && ww < W) sum += at(b, c, hh, ww) ** 2;
      scale = 1 + (alpha / (n * n)) * sum;
    }
    y[((b * C + c) * H + h) * W + w] = at(b, c, h, w) * scale ** -beta;
  }
  return y;
}

/** Softmax over axis 1 of [outer, C, inner]. */
export function softmax(x: ArrayLike<number>, outer: number, C: number, inner: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
    let max = -Infinity, sum = 0;
    for (let c = 0; c < C; c++) max = Math.max(max, x[(o * C + c) * inner + i]);
    for (let c = 0; c < C; c++) sum += Math.exp(x[(o * C + c) * inner + i] - max);
    for (let c = 0; c < C; c++) y[(o * C + c) * inner + i] = Math.exp(x[(o * C + c) * inner + i] - max) / sum;
  }
  return y;
}
