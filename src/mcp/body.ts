// Reads a request body up to a size limit. With a Content-Length the header is checked and the body read in one go
// (the node fast path, no web streams); a chunked body is counted while it streams in and cut off at the limit.
import type { Context } from 'hono';

export const TOO_LARGE = Symbol('too large');

export async function readBodyWithin(c: Context, maxBytes: number): Promise<string | typeof TOO_LARGE> {
  const length = c.req.header('content-length');
  if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
    // node's parser has already refused a malformed Content-Length, and never delivers more than it says.
    if (Number(length) > maxBytes) return TOO_LARGE;
    return c.req.text();
  }
  const reader = c.req.raw.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return TOO_LARGE;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
