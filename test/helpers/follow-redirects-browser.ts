// A stand-in for a browser in tests (TOLLGATE_BROWSER="<node> <this file>"): loads the authorization URL and
// follows redirects, so an authorization server that approves at once (the conformance mock) lands on the
// client's loopback callback exactly as a browser would.
const url = process.argv.at(-1);
if (!url) process.exit(2);
try {
  const res = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(20_000) });
  await res.text();
} catch (err) {
  process.stderr.write(`follow-redirects-browser: ${(err as Error).message}\n`);
  process.exit(1);
}
