import type { Context } from 'hono';
import { isObject } from '../util/json.ts';
import { isJsonMediaType, mediaType } from '../util/media-type.ts';
import { HttpError } from './errors.ts';

/** Parses a JSON object body; anything else is a 400 with a message that says what is wrong. */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  if (!isJsonMediaType(c.req.header('content-type'))) {
    throw new HttpError(415, 'invalid_request', 'Content-Type must be application/json');
  }
  const text = await c.req.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_request', 'The request body is not valid JSON');
  }
  if (!isObject(parsed)) {
    throw new HttpError(400, 'invalid_request', 'The request body must be a JSON object');
  }
  return parsed;
}

/**
 * Parses an `application/x-www-form-urlencoded` body into single values. A parameter sent twice is refused
 * (RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once").
 */
export async function readForm(c: Context): Promise<Record<string, string>> {
  checkFormType(c.req.header('content-type'));
  return singleValues(new URLSearchParams(await c.req.text()));
}

/** `readForm` for a body already read (as `Request.text()` decodes it), e.g. by an endpoint of the endpoint table. */
export function parseForm(contentType: string | undefined, text: string): Record<string, string> {
  checkFormType(contentType);
  return singleValues(new URLSearchParams(text));
}

function checkFormType(contentType: string | undefined): void {
  if (mediaType(contentType) !== 'application/x-www-form-urlencoded') {
    throw new HttpError(400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
  }
}

export function singleValues(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of params) {
    if (k in out) throw new HttpError(400, 'invalid_request', `Parameter "${k.slice(0, 40)}" is included more than once`);
    out[k] = v;
  }
  return out;
}
