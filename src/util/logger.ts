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

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
