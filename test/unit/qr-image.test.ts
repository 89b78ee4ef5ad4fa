/** Unit tests of the QR image renderer: PNG bytes and data URL, SVG document. Nothing is decoded. */
import {
  DEFAULT_QR_PNG_SCALE,
  QR_IMAGE_OPTIONS,
  qrModuleCount,
  qrPngBuffer,
  qrPngDataUrl,
  qrSvg,
} from '../../functions/adapters/qr-image.js';
import { buildPromptPayPayload } from '../../functions/core/promptpay.js';

const PAYLOAD = buildPromptPayPayload({
  merchant: { kind: 'billPayment', billerId: '099999999999901', reference1: 'SIM0123456789ABCDEF' },
  amount: 20050,
  merchantName: 'KBANK SIMULATOR',
  merchantCity: 'BANGKOK',
});

/** A small scale keeps the PNG tests fast (jest's module sandbox makes per-pixel work slow). */
const SMALL = { scale: 2 };

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from the IHDR chunk, which must come right after the signature. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/**
 * A small well-formedness check for the SVG qrcode writes: one root `<svg>` in the SVG namespace, every
 * element either self-closing or closed in order, nothing but whitespace outside the root.
 */
function expectWellFormedSvg(svg: string): void {
  const text = svg.trim();
  expect(text.startsWith('<svg')).toBe(true);
  expect(text.endsWith('</svg>')).toBe(true);
  expect(text).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let position = 0;
  for (let match = tag.exec(text); match !== null; match = tag.exec(text)) {
    expect(text.slice(position, match.index).trim()).toBe('');
    position = match.index + match[0].length;
    const [, closing, name = '', , selfClosing] = match;
    if (closing) expect(stack.pop()).toBe(name);
    else if (!selfClosing) stack.push(name);
    if (stack.length === 0) expect(position).toBe(text.length);
  }
  expect(position).toBe(text.length);
  expect(stack).toEqual([]);
}

describe('qrPngBuffer', () => {
  it('renders a PNG whose size is (modules + two 4-module margins) × scale', async () => {
    const png = await qrPngBuffer(PAYLOAD);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    const side = (qrModuleCount(PAYLOAD) + 2 * QR_IMAGE_OPTIONS.margin) * DEFAULT_QR_PNG_SCALE;
    expect(pngSize(png)).toEqual({ width: side, height: side });
  });

  it('honours a custom scale', async () => {
    const png = await qrPngBuffer(PAYLOAD, SMALL);
    const side = (qrModuleCount(PAYLOAD) + 8) * SMALL.scale;
    expect(pngSize(png)).toEqual({ width: side, height: side });
  });

  it('is deterministic for the same payload', async () => {
    expect((await qrPngBuffer(PAYLOAD, SMALL)).equals(await qrPngBuffer(PAYLOAD, SMALL))).toBe(true);
  });
});

describe('qrPngDataUrl', () => {
  it('is the same PNG, base64 encoded in a data URL', async () => {
    const url = await qrPngDataUrl(PAYLOAD, SMALL);
    expect(url.startsWith('data:image/png;base64,')).toBe(true);
    const bytes = Buffer.from(url.slice('data:image/png;base64,'.length), 'base64');
    expect(bytes.equals(await qrPngBuffer(PAYLOAD, SMALL))).toBe(true);
  });
});

describe('qrSvg', () => {
  it('renders a well-formed SVG document sized in modules, margin included', async () => {
    const svg = await qrSvg(PAYLOAD);
    expectWellFormedSvg(svg);
    const side = qrModuleCount(PAYLOAD) + 2 * QR_IMAGE_OPTIONS.margin;
    expect(svg).toContain(`viewBox="0 0 ${side} ${side}"`);
  });

  it('is deterministic for the same payload and differs for another', async () => {
    const first = await qrSvg(PAYLOAD);
    expect(await qrSvg(PAYLOAD)).toBe(first);
    const other = buildPromptPayPayload({
      merchant: { kind: 'billPayment', billerId: '099999999999901', reference1: 'SIM0123456789ABCDEF' },
      amount: 20051,
    });
    expect(await qrSvg(other)).not.toBe(first);
  });
});

describe('qrModuleCount', () => {
  it('grows with the payload (a bigger QR version)', () => {
    expect(qrModuleCount('A')).toBe(21);
    expect(qrModuleCount(PAYLOAD)).toBeGreaterThan(21);
    expect((qrModuleCount(PAYLOAD) - 17) % 4).toBe(0);
  });
});
