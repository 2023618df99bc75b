// Static assets for the server-rendered pages, served by Tollgate itself from memory: the stylesheet (the CSP
// forbids inline styles), two small scripts, and uPlot for the charts. URLs carry a content hash, so browsers may
// cache them for a year; a gzip copy is kept for clients that accept it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Hono } from 'hono';
import type { AppEnv } from '../http/env.ts';

interface Asset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  version: string;
}

const here = path.join(import.meta.dirname, 'static');
const require = createRequire(import.meta.url);

function uplotFile(name: string): string | undefined {
  try {
    return path.join(path.dirname(require.resolve('uplot')), name);
  } catch {
    return undefined;
  }
}

/** Public name → file on disk. uPlot comes from its package (missing: the charts fall back to their tables). */
const SOURCES: Record<string, { file: string | undefined; type: string }> = {
  'tollgate.css': { file: path.join(here, 'tollgate.css'), type: 'text/css; charset=utf-8' },
  'tollgate.js': { file: path.join(here, 'tollgate.js'), type: 'text/javascript; charset=utf-8' },
  'charts.js': { file: path.join(here, 'charts.js'), type: 'text/javascript; charset=utf-8' },
  'favicon.svg': { file: path.join(here, 'favicon.svg'), type: 'image/svg+xml' },
  'uplot.min.js': { file: uplotFile('uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uplot.min.css': { file: uplotFile('uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

let loaded: Map<string, Asset> | undefined;
function assets(): Map<string, Asset> {
  if (loaded) return loaded;
  loaded = new Map();
  for (const [name, src] of Object.entries(SOURCES)) {
    if (!src.file) continue;
    let body: Buffer;
    try {
      body = readFileSync(src.file);
    } catch {
      continue;
    }
    loaded.set(name, { body, gzip: gzipSync(body, { level: 9 }), type: src.type, version: createHash('sha256').update(body).digest('hex').slice(0, 12) });
  }
  return loaded;
}

/** The URL of a static asset, versioned by its content. */
export function assetUrl(name: keyof typeof SOURCES & string): string {
  const a = assets().get(name);
  return a ? `/static/${name}?v=${a.version}` : `/static/${name}`;
}

/** True when the asset could be loaded (uPlot is optional at run time). */
export const hasAsset = (name: string): boolean => assets().has(name);

export function mountAssets(app: Hono<AppEnv>): void {
  app.get('/static/:name', (c) => {
    const asset = assets().get(c.req.param('name'));
    if (!asset) return c.text('Not found', 404);
    const gzip = /\bgzip\b/.test(c.req.header('accept-encoding') ?? '');
    c.header('Cache-Control', c.req.query('v') === asset.version ? 'public, max-age=31536000, immutable' : 'public, max-age=300');
    c.header('ETag', `"${asset.version}${gzip ? '-gz' : ''}"`);
    c.header('Vary', 'Accept-Encoding');
    if (c.req.header('if-none-match') === `"${asset.version}${gzip ? '-gz' : ''}"`) return c.body(null, 304);
    if (gzip) c.header('Content-Encoding', 'gzip');
    return c.body(new Uint8Array(gzip ? asset.gzip : asset.body), 200, { 'content-type': asset.type });
  });
}
