// A suite that may be skipped for want of a service (PostgreSQL, Redis). node:test counts a skipped `describe` as a
// suite, not as skipped tests, so `npm test`'s summary would say "skipped 0": a skipped suite here registers one
// skipped test that names it and the reason, and the summary counts it.
import { describe, test } from 'node:test';

export function describeUnless(name: string, skip: string | undefined, suite: () => void): void {
  if (!skip) {
    describe(name, suite);
    return;
  }
  describe(name, () => {
    test(`${name}: skipped (${skip})`, { skip }, () => {});
  });
}
