import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config.ts';
import { UserFacingError } from '../util/errors.ts';

export class DataDirError extends UserFacingError {}

/**
 * Creates the data directory and checks that it is writable. The directory (0700) and the secret file in it (0600)
 * are made owner-only even when they already existed with wider modes: they hold the key that seals signing keys.
 */
export function ensureDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = statSync(dir);
    if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    tighten(dir, st.mode, 0o700);
    tighten(path.join(dir, 'secret'), undefined, 0o600);
    const probe = path.join(dir, `.write-test-${process.pid}`);
    closeSync(openSync(probe, 'w', 0o600));
    rmSync(probe, { force: true });
  } catch (err) {
    throw new DataDirError(`The data directory ${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? 'error'}); set TOLLGATE_DATA_DIR to a writable directory`);
  }
}

/** chmod to `mode` when group or others have any access; a missing file, or one we may not change, stays as it is. */
function tighten(file: string, current: number | undefined, mode: number): void {
  try {
    if (((current ?? statSync(file).mode) & 0o077) !== 0) chmodSync(file, mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EPERM') throw err;
  }
}

/**
 * The key material that encrypts signing keys at rest: TOLLGATE_SECRET when set, otherwise a random secret
 * generated once into `<dataDir>/secret` (mode 0600) and reused on every later start.
 */
export function loadOrCreateSecret(config: Pick<Config, 'secret' | 'dataDir'>, options: { create?: boolean } = {}): string {
  if (config.secret) return config.secret;
  const file = path.join(config.dataDir, 'secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new DataDirError(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`);
  }
  if (options.create === false) {
    throw new DataDirError(`No secret file at ${file}: set TOLLGATE_DATA_DIR to the server's data directory, or TOLLGATE_SECRET to the server's secret`);
  }
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('base64url');
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw new DataDirError(`Cannot create ${file}: ${(err as NodeJS.ErrnoException).code}`);
  }
  writeSync(fd, secret + '\n');
  fsyncSync(fd);
  closeSync(fd);
  chmodSync(file, 0o600);
  return secret;
}
