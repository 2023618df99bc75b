// One bounded load run with autocannon, in its own process on the load core, against a loopback URL.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LOAD_CORE, pinned } from './processes.ts';
import type { ReadyInfo } from './protocol.ts';
import type { LoadSpec } from './load-worker.ts';

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
}

const WORKER = path.join(import.meta.dirname, 'load-worker.ts');

export interface LoadOptions {
  connections: number;
  seconds: number;
  /** Drive the refresh_token grant with the tokens the server announced (meta.refreshFile) instead of its MCP request. */
  refresh?: boolean;
  /** Requests per second, sent at an even pace (for a server measured at another's rate; see load-worker.ts); unset: as fast as it answers. */
  rate?: number;
}

export function runLoad(target: ReadyInfo, options: LoadOptions): Promise<LoadResult> {
  const u = new URL(target.url);
  if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') throw new Error('load is only ever sent to loopback');
  const spec: LoadSpec = {
    url: target.url,
    connections: options.connections,
    seconds: options.seconds,
    headers: target.headers,
    body: target.body,
    variantsFile: options.refresh ? undefined : (target.meta?.variantsFile as string | undefined),
    refreshFile: options.refresh ? (target.meta?.refreshFile as string) : undefined,
    rate: options.rate,
  };
  if (options.refresh && !spec.refreshFile) throw new Error('this server announced no refresh tokens');
  const [cmd, args] = pinned(LOAD_CORE, process.execPath, [WORKER, JSON.stringify(spec)]);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`the load generator failed (${code}): ${err.slice(-800)}`));
      const result = JSON.parse(out) as LoadResult & { refreshTokens?: string[] };
      if (spec.refreshFile && result.refreshTokens) {
        // Refresh tokens are single-use: the next run starts from the ones this run never presented.
        const file = JSON.parse(readFileSync(spec.refreshFile, 'utf8')) as Record<string, unknown>;
        writeFileSync(spec.refreshFile, JSON.stringify({ ...file, refreshTokens: result.refreshTokens }));
        delete result.refreshTokens;
      }
      resolve(result);
    });
  });
}

/** Fails the run when any response was not 2xx or any request failed: such numbers would mean nothing. */
export function assertClean(name: string, r: LoadResult): void {
  if (r.non2xx || r.errors) throw new Error(`${name}: ${r.non2xx} non-2xx responses and ${r.errors} errors: the run is invalid`);
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
