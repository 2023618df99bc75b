import type { Logger } from '../util/logger.ts';

/** Per-request values every handler can read with `c.get(...)`. */
export interface AppEnv {
  Variables: {
    requestId: string;
    /** A fresh nonce for this response's Content-Security-Policy `script-src`. */
    cspNonce: string;
    log: Logger;
  };
}
