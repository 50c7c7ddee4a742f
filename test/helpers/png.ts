/**
 * Just enough PNG decoding to ask what colours a screenshot has: 8-bit RGB or RGBA,
 * not interlaced (what Chromium writes). No dependency for one test's check.
 */
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';

export interface Image {
  readonly width: number;
  readonly height: number;
  /** [r, g, b] of pixel (x, y). */
  rgb(x: number, y: number): [number, number, number];
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

export function readPng(file: string): Image {
  const buf = readFileSync(file);
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at < buf.length; ) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colour, , , interlace] = [data[8], data[9], data[10], data[11], data[12]];
      if (depth !== 8 || interlace !== 0 || (colour !== 2 && colour !== 6)) {
        throw new Error(
          `unsupported PNG: depth ${depth}, colour type ${colour}, interlace ${interlace}`,
        );
      }
      channels = colour === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const px = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i] as number;
      const a = i >= channels ? (px[y * stride + i - channels] as number) : 0;
      const b = y > 0 ? (px[(y - 1) * stride + i] as number) : 0;
      const c = y > 0 && i >= channels ? (px[(y - 1) * stride + i - channels] as number) : 0;
      const f = [x, x + a, x + b, x + ((a + b) >> 1), x + paeth(a, b, c)][filter as number];
      px[y * stride + i] = (f as number) & 0xff;
    }
  }
  return {
    width,
    height,
    rgb: (x, y) => {
      const o = y * stride + x * channels;
      return [px[o] as number, px[o + 1] as number, px[o + 2] as number];
    },
  };
}

/** How many pixels are within `tolerance` of `hex` (`#2563eb`) on every channel. */
export function countColour(img: Image, hex: string, tolerance = 12): number {
  const want = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const got = img.rgb(x, y);
      if (got.every((v, i) => Math.abs(v - (want[i] as number)) <= tolerance)) n++;
    }
  }
  return n;
}
