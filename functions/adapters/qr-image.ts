/** Renders a QR payload (e.g. a PromptPay string) as PNG or SVG with the `qrcode` package. */
import QRCode from 'qrcode';

/**
 * Error correction M (about 15% of the symbol can be damaged) and the 4-module quiet zone the QR standard
 * asks for: what banking apps scan reliably from a screen.
 */
export const QR_IMAGE_OPTIONS = { errorCorrectionLevel: 'M', margin: 4 } as const;

/** Pixels per module of the PNG. 8 gives a 300–400 px image for a typical Thai QR payload. */
export const DEFAULT_QR_PNG_SCALE = 8;

export interface QrPngOptions {
  /** Pixels per module. Default DEFAULT_QR_PNG_SCALE. */
  scale?: number;
}

/** The QR code as PNG bytes. */
export async function qrPngBuffer(payload: string, options: QrPngOptions = {}): Promise<Buffer> {
  return QRCode.toBuffer(payload, {
    ...QR_IMAGE_OPTIONS,
    type: 'png',
    scale: options.scale ?? DEFAULT_QR_PNG_SCALE,
  });
}

/** The QR code as a `data:image/png;base64,…` URL, ready for an `<img src>`. */
export async function qrPngDataUrl(payload: string, options: QrPngOptions = {}): Promise<string> {
  const png = await qrPngBuffer(payload, options);
  return `data:image/png;base64,${png.toString('base64')}`;
}

/** The QR code as a standalone SVG document (scales without blur; same input, same string). */
export async function qrSvg(payload: string): Promise<string> {
  return QRCode.toString(payload, { ...QR_IMAGE_OPTIONS, type: 'svg' });
}

/** Modules per side of the symbol (without the quiet zone) for `payload` at our error correction level. */
export function qrModuleCount(payload: string): number {
  return QRCode.create(payload, { errorCorrectionLevel: QR_IMAGE_OPTIONS.errorCorrectionLevel }).modules.size;
}
