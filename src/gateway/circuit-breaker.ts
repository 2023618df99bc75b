// A circuit breaker per upstream: after `failures` unhealthy answers in a row (down, timing out, garbage) calls
// fail fast for `cooldownMs`, then one trial call is let through; its success closes the circuit again.
export interface CircuitBreaker {
  /** Undefined when a call may go ahead; otherwise how long until the next trial, in ms. */
  blockedForMs(now?: number): number | undefined;
  success(): void;
  failure(now?: number): void;
  readonly state: 'closed' | 'open' | 'half-open';
}

export function circuitBreaker(options: { failures: number; cooldownMs: number }): CircuitBreaker {
  let consecutive = 0;
  let openUntil = 0;
  let trialInFlight = false;
  return {
    blockedForMs(now = Date.now()) {
      if (consecutive < options.failures) return undefined;
      if (now < openUntil) return openUntil - now;
      // Half-open: one trial at a time.
      if (trialInFlight) return options.cooldownMs;
      trialInFlight = true;
      return undefined;
    },
    success() {
      consecutive = 0;
      trialInFlight = false;
    },
    failure(now = Date.now()) {
      consecutive++;
      trialInFlight = false;
      if (consecutive >= options.failures) openUntil = now + options.cooldownMs;
    },
    get state() {
      return consecutive < options.failures ? 'closed' : Date.now() < openUntil ? 'open' : 'half-open';
    },
  };
}
