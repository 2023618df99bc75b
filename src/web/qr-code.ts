// A QR code as inline SVG (one path, no inline styles: the CSP allows none), drawn from uqr's module matrix.
import { encode } from 'uqr';
import { html } from 'hono/html';
import type { Html } from './layout.ts';

export function qrSvg(text: string, label: string): Html {
  const { data, size } = encode(text, { ecc: 'M', border: 2 });
  let d = '';
  data.forEach((row, y) => row.forEach((dark, x) => (d += dark ? `M${x} ${y}h1v1h-1z` : '')));
  return html`<svg class="qr" role="img" aria-label="${label}" viewBox="0 0 ${size} ${size}" width="200" height="200" shape-rendering="crispEdges" xmlns="http://www.w3.org/2000/svg"><rect width="${size}" height="${size}" fill="#fff"/><path d="${d}" fill="#000"/></svg>`;
}
