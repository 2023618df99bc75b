// A stand-in for a person at a browser, for clients that open one (BROWSER=<this file's wrapper> for mcp-remote):
// it walks the real sign-in and consent pages with the credentials in TOLLGATE_TEST_EMAIL / TOLLGATE_TEST_PASSWORD,
// then loads the client's redirect URL (its loopback callback), as a browser would.
import { approveAuthorization } from './oauth-flow.ts';

const url = process.argv.at(-1);
if (!url?.startsWith('http')) process.exit(2);
try {
  const back = await approveAuthorization(url, { email: process.env.TOLLGATE_TEST_EMAIL ?? '', password: process.env.TOLLGATE_TEST_PASSWORD ?? '' });
  const res = await fetch(back, { signal: AbortSignal.timeout(20_000) });
  await res.text();
} catch (err) {
  process.stderr.write(`approving-browser: ${(err as Error).message}\n`);
  process.exit(1);
}
