// A cross-process lock on a file: `open(O_CREAT|O_EXCL)` is atomic, so exactly one process creates the lock
// file. Used so that only one process refreshes a server's tokens at a time: refresh tokens are single-use,
// and two processes redeeming the same one would lose the grant.
import { link, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LockOptions {
  /** Give up waiting after this long. */
  timeoutMs?: number;
  /** A lock older than this, or held by a process that no longer exists, is taken over. */
  staleMs?: number;
}

export class LockTimeoutError extends Error {}

interface LockInfo {
  pid: number;
  host: string;
  token: string;
  at: number;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLock(lockPath: string): Promise<LockInfo | undefined> {
  try {
    return JSON.parse(await readFile(lockPath, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

async function isStale(lockPath: string, info: LockInfo | undefined, staleMs: number): Promise<boolean> {
  if (info && info.host === hostname() && !processAlive(info.pid)) return true;
  try {
    const s = await stat(lockPath);
    return Date.now() - s.mtimeMs > staleMs;
  } catch {
    return false;
  }
}

/** Moves a stale lock away; if what was moved turns out to be a fresh lock (a race), puts it back. */
async function breakStaleLock(lockPath: string, stale: LockInfo | undefined): Promise<void> {
  const aside = `${lockPath}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
  try {
    await rename(lockPath, aside);
  } catch {
    return;
  }
  const moved = await readLock(aside);
  if (stale && moved && moved.token !== stale.token) await link(aside, lockPath).catch(() => {});
  await rm(aside, { force: true });
}

async function acquire(lockPath: string, timeoutMs: number, staleMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const token = randomBytes(12).toString('hex');
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx', 0o600);
      try {
        await fh.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), token, at: Date.now() } satisfies LockInfo));
      } finally {
        await fh.close();
      }
      return token;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const info = await readLock(lockPath);
    if (await isStale(lockPath, info, staleMs)) {
      await breakStaleLock(lockPath, info);
      continue;
    }
    if (Date.now() > deadline) throw new LockTimeoutError(`Timed out waiting for the lock ${lockPath} (held by process ${info?.pid ?? '?'})`);
    await sleep(20 + Math.random() * 40);
  }
}

async function release(lockPath: string, token: string): Promise<void> {
  const info = await readLock(lockPath);
  if (info?.token === token) await rm(lockPath, { force: true });
}

/** Runs `fn` while holding the lock at `lockPath`. */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const token = await acquire(lockPath, options.timeoutMs ?? 60_000, options.staleMs ?? 90_000);
  try {
    return await fn();
  } finally {
    await release(lockPath, token);
  }
}
