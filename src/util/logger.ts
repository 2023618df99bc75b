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

/**
 * Logs to `destination`, by default stdout. Writes to stdout are asynchronous: lines that arrive while a write is in
 * flight go out together with the next one, instead of one system call per line on the event loop (a request line
 * per request). Lines still in the buffer are written out when the process exits; a SIGKILL can lose only those.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const out = destination ?? (level === 'silent' ? undefined : pino.destination({ dest: 1, sync: false }));
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: isoTimeCached(),
    },
    out,
  );
}
