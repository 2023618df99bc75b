import pino, { type Logger, type DestinationStream } from 'pino';

export type { Logger };

// Logs never carry credentials: request logs record method, path (never the query string), status and timing,
// and these paths are censored wherever a caller passes an object that might hold one.
const SECRET_KEYS = [
  'authorization', 'cookie', 'set-cookie', 'password', 'token', 'access_token', 'refresh_token', 'id_token',
  'code', 'code_verifier', 'client_secret', 'secret', 'assertion', 'client_assertion', 'session',
];
export const REDACT_PATHS = [
  ...SECRET_KEYS.map((k) => `["${k}"]`),
  ...SECRET_KEYS.map((k) => `*["${k}"]`),
  ...SECRET_KEYS.map((k) => `*.*["${k}"]`),
];

/**
 * pino's ISO timestamp, formatted once per millisecond rather than once per line (under load many lines share a
 * millisecond, and formatting a date costs about as much as the rest of a request line).
 */
function isoTimeCached(): () => string {
  let last = 0;
  let text = '';
  return () => {
    const now = Date.now();
    if (now !== last) {
      last = now;
      text = `,"time":"${new Date(now).toISOString()}"`;
    }
    return text;
  };
}

/** Bytes of lines gathered before a write, and the longest a line waits for one when fewer arrive. */
export const LOG_BATCH_BYTES = 8192;
export const LOG_FLUSH_MS = 100;

/**
 * Where a server's lines go: `fd` (stdout is 1), written asynchronously and in batches. Lines are gathered until 8 KB
 * have arrived or 100 ms have passed, and go out in one system call on the thread pool, instead of one write per
 * line (a request line per request) or one per turn of the event loop: under load each write costs a thread-pool
 * round trip, and the bench's metered tools/call measured 79 → 75 µs of CPU a call with batches (without any log,
 * 68). What is still gathered is written out when the process exits (pino flushes it synchronously on exit, a crash
 * included); a SIGKILL can lose only that, at most 100 ms of lines.
 */
export function logDestination(fd: number): DestinationStream {
  return pino.destination({ dest: fd, sync: false, minLength: LOG_BATCH_BYTES, periodicFlush: LOG_FLUSH_MS });
}

/** Logs to `destination`, by default stdout (`logDestination(1)`). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const out = destination ?? (level === 'silent' ? undefined : logDestination(1));
  const time = isoTimeCached();
  const logger = pino(
    {
      level,
      base: undefined,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: time,
    },
    out,
  );
  // Inherited by its children (pino makes a child with the parent as its prototype).
  Object.defineProperty(logger, OWN_FORMAT, { value: time });
  return logger;
}

const OWN_FORMAT = Symbol('tollgate.logFormat');

/** Flat fields of a line that holds no secret: strings, numbers, undefined (left out, as pino leaves it out). */
export type PlainFields<F> = { readonly [K in keyof F]: string | number | undefined };

/**
 * Info lines of one message whose fields are flat and never secret (the request line), written as `logger.info(fields,
 * message)` writes them — the same bytes, give or take how a character is escaped — with one JSON.stringify of the
 * fields instead of pino's serialisation key by key and its redaction (measured on the bench's tools/call: a few µs a
 * request). A logger createLogger did not make, or one writing to a stream that wants pino's metadata, goes through
 * pino as usual.
 */
export function infoLineWriter<F extends PlainFields<F>>(logger: Logger, message: string): (fields: F) => void {
  const l = logger as unknown as Record<symbol, unknown>;
  const time = l[OWN_FORMAT] as (() => string) | undefined;
  const stream = l[pino.symbols.streamSym] as { write(line: string): unknown; [k: symbol]: unknown } | undefined;
  if (!time || !stream || stream[pino.symbols.needsMetadataGsym]) return (fields) => logger.info(fields as object, message);
  const bindings = (l[pino.symbols.chindingsSym] as string | undefined) ?? '';
  const tail = `,"msg":${JSON.stringify(message)}}\n`;
  return (fields) => {
    if (!logger.isLevelEnabled('info')) return;
    const json = JSON.stringify(fields);
    stream.write(`{"level":"info"${time()}${bindings}${json.length > 2 ? `,${json.slice(1, -1)}` : ''}${tail}`);
  };
}
