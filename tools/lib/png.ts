/**
 * A solid-colour PNG, made in code so a vision request carries an image whose
 * content is known. Node's zlib gives deflate and CRC-32; nothing else needed.
 */
import { crc32, deflateSync } from "node:zlib";

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

export function solidPng(width: number, height: number, rgb: [number, number, number]): Buffer {
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3).fill(Buffer.from(rgb))]);
  return encode(width, height, Buffer.concat(Array.from({ length: height }, () => row)));
}

/**
 * Random pixels (seeded, so a body's size is the same on every run): the
 * worst case for compression, so the PNG is as large as an image of that
 * size gets (768x768: about 1.8 MB, 2.4 MB in base64).
 */
export function noisePng(width: number, height: number, seed = 1): Buffer {
  let x = seed >>> 0 || 1;
  const raw = Buffer.alloc(height * (width * 3 + 1));
  for (let i = 0; i < raw.length; i++) {
    // xorshift32
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    raw[i] = i % (width * 3 + 1) === 0 ? 0 : x & 0xff;
  }
  return encode(width, height, raw);
}

function encode(width: number, height: number, raw: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

export function pngDataUrl(png: Buffer): string {
  return `data:image/png;base64,${png.toString("base64")}`;
}
