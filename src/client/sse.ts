// A server-sent events reader (WHATWG HTML §9.2.6) for Streamable HTTP responses.

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/** A body to read events from: a fetch body, or any async iterable of bytes that can be cancelled (node:http's). */
export type SseBody = ReadableStream<Uint8Array> | (AsyncIterable<Uint8Array> & { cancel(): Promise<void> });

export async function* readSse(body: SseBody): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  const stream = 'getReader' in body ? body.getReader() : undefined;
  const iterator = stream ? undefined : (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  const reader = { read: (): Promise<IteratorResult<Uint8Array, unknown>> => (stream ? stream.read() : iterator!.next()) } as { read(): Promise<{ value?: Uint8Array; done?: boolean }> };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer[nl] === '\r' && buffer[nl + 1] === '\n' ? 2 : 1));
        if (line === '') {
          if (data.length) yield { event: event || 'message', data: data.join('\n'), id };
          data = [];
          event = '';
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? '' : line.slice(colon + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (field === 'data') data.push(val);
        else if (field === 'event') event = val;
        else if (field === 'id') id = val;
      }
      if (done) break;
    }
    if (data.length) yield { event: event || 'message', data: data.join('\n'), id };
  } finally {
    if (stream) stream.releaseLock();
    else await iterator!.return?.();
    await body.cancel().catch(() => {});
  }
}
