// (WOP) Cloudflare's workers-oauth-provider with the `agents` package's stateless MCP handler, run locally in workerd
// through miniflare (both from npm; workerd ships in the package and inherits this process's CPU pinning). The Worker
// (wop/worker.ts) is bundled with esbuild, as wrangler would, and its KV namespace OAUTH_KV is miniflare's local KV,
// kept on disk in a scratch directory for the run. The token is not made here: the harness registers a client,
// authorizes and redeems the code over HTTP (lib/oauth-client.ts), as an MCP client would.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { announceReady, BENCH_CONTACT_ID, MCP_HEADERS, toolCallBody } from '../lib/protocol.ts';
import { freePort } from '../lib/scratch.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-bench-wop-'));
let mf: Miniflare | undefined;

async function main(): Promise<void> {
  const bundle = await build({
    entryPoints: [path.join(import.meta.dirname, 'wop', 'worker.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2024',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:*', 'node:*'],
    logLevel: 'silent',
  });
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  mf = new Miniflare({
    host: '127.0.0.1',
    port,
    modules: true,
    script: bundle.outputFiles[0].text,
    compatibilityDate: '2025-09-01',
    compatibilityFlags: ['nodejs_compat'],
    kvNamespaces: ['OAUTH_KV'],
    kvPersist: path.join(dir, 'kv'),
    bindings: { ORIGIN: origin },
  });
  await mf.ready;
  announceReady({
    url: `${origin}/mcp`,
    headers: { ...MCP_HEADERS },
    body: toolCallBody('get_contact', { id: BENCH_CONTACT_ID }),
    meta: { oauth: { resource: `${origin}/mcp`, scope: 'mcp:read mcp:write' }, metering: false },
  });
}

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  try {
    // workerd stops with its parent in any case; a dispose slower than this would only have the harness SIGKILL us first.
    await Promise.race([mf?.dispose(), new Promise((r) => setTimeout(r, 2000))]);
  } catch {
    // Already gone.
  } finally {
    rmSync(dir, { recursive: true, force: true });
    process.exit(code);
  }
}
// miniflare ends the process on a signal itself (and workerd with it): the scratch directory goes on exit, however it comes.
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
process.once('SIGTERM', () => void stop(0));
process.once('SIGINT', () => void stop(0));

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  void stop(1);
});
