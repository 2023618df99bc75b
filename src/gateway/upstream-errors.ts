// Why a call to an upstream failed, in words a client can act on (the dispatcher turns it into a tool error).
export class UpstreamError extends Error {
  /** Counts against the circuit breaker (down, timing out, garbage), unlike an in-band JSON-RPC error. */
  readonly unhealthy: boolean;
  constructor(message: string, unhealthy = true) {
    super(message);
    this.name = 'UpstreamError';
    this.unhealthy = unhealthy;
  }
}

/** An in-band JSON-RPC error answer from the upstream (the upstream is healthy; the request was refused). */
export class UpstreamRpcError extends UpstreamError {
  readonly code: number;
  readonly data: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message, false);
    this.name = 'UpstreamRpcError';
    this.code = code;
    this.data = data;
  }
}
