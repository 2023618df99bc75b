// One parser for Content-Type and Accept-style media types, for the server and the client alike.

/** RFC 9110 §8.3.1: the media type's essence, lower-cased (`type/subtype`, parameters dropped); '' when absent. */
export function mediaType(value: string | null | undefined): string {
  if (!value) return '';
  const semi = value.indexOf(';');
  return (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
}

/** JSON, including structured-syntax `+json` types (RFC 6839 §3.1). */
export function isJsonMediaType(value: string | null | undefined): boolean {
  const essence = mediaType(value);
  return essence === 'application/json' || essence.endsWith('+json');
}
