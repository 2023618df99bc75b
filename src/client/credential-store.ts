// The client's files, in the user's config directory: the configured servers, and per server URL its client
// registration and tokens, bound to the issuer that issued them. Directory 0700, files 0600, every write atomic.
import { chmod, mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from './atomic-file.ts';
import { withFileLock } from './file-lock.ts';
import type { AuthorizationServerMetadata } from './discovery.ts';
import { ClientError } from './http.ts';

export interface ServerEntry {
  name: string;
  url: string;
  /** Pre-registered client (`mcp add --client-id`). */
  clientId?: string;
  clientSecret?: string;
  /** Scope to ask for instead of the server's suggestion. */
  scope?: string;
  /** A client ID metadata document URL to use where the server supports them. */
  clientMetadataUrl?: string;
  /** The loopback port of the sign-in callback; stable so an exact-match redirect URI keeps working. */
  callbackPort: number;
  addedAt: string;
}

export type ClientAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';

export interface ClientRegistration {
  clientId: string;
  clientSecret?: string;
  authMethod: ClientAuthMethod;
  redirectUris: string[];
  source: 'pre-registered' | 'metadata-document' | 'dynamic';
  registeredAt: string;
}

export interface TokenSet {
  accessToken: string;
  tokenType: string;
  refreshToken?: string;
  /** Epoch milliseconds; undefined when the server did not say. */
  expiresAt?: number;
  scope?: string;
  obtainedAt: number;
}

export interface Credentials {
  version: 1;
  serverUrl: string;
  /** The issuer the registration and tokens belong to: a different issuer later means starting over. */
  issuer: string;
  resource?: string;
  authorizationServer: { metadataUrl?: string; metadata: AuthorizationServerMetadata };
  client?: ClientRegistration;
  tokens?: TokenSet;
  /** The scope asked for at the last sign-in (step-up adds to it). */
  requestedScope?: string;
  updatedAt: string;
}

interface ServersFile {
  version: 1;
  servers: Record<string, ServerEntry>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function validateServerName(name: string): void {
  if (!NAME.test(name)) throw new ClientError(`Invalid server name "${name}": use letters, digits, ".", "_" or "-" (at most 64)`);
}

/** `$TOLLGATE_CLIENT_DIR`, else `$XDG_CONFIG_HOME/tollgate`, else `~/.config/tollgate` (`%APPDATA%\tollgate` on Windows). */
export function clientDir(env: Record<string, string | undefined>): string {
  if (env.TOLLGATE_CLIENT_DIR) return path.resolve(env.TOLLGATE_CLIENT_DIR);
  if (env.XDG_CONFIG_HOME) return path.join(env.XDG_CONFIG_HOME, 'tollgate');
  if (process.platform === 'win32' && env.APPDATA) return path.join(env.APPDATA, 'tollgate');
  return path.join(env.HOME || homedir(), '.config', 'tollgate');
}

/** The file key of a server URL: its normalised form, hashed (URLs do not make portable file names). */
export function serverKey(url: string): string {
  return createHash('sha256').update(normalizeServerUrl(url)).digest('hex').slice(0, 32);
}

export function normalizeServerUrl(url: string): string {
  const u = new URL(url);
  u.hash = '';
  return u.href;
}

async function readJson<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ClientError(`${file} is not valid JSON; fix or delete it`);
  }
}

export class CredentialStore {
  readonly dir: string;
  private ready: Promise<void> | undefined;

  constructor(dir: string) {
    this.dir = dir;
  }

  static fromEnv(env: Record<string, string | undefined>): CredentialStore {
    return new CredentialStore(clientDir(env));
  }

  get serversFile(): string {
    return path.join(this.dir, 'servers.json');
  }

  credentialsFile(url: string): string {
    return path.join(this.dir, 'credentials', `${serverKey(url)}.json`);
  }

  private lockFile(url: string): string {
    return path.join(this.dir, 'credentials', `${serverKey(url)}.lock`);
  }

  /** Creates the directories with mode 0700 (and tightens them if they exist). */
  ensureDir(): Promise<void> {
    this.ready ??= (async () => {
      for (const d of [this.dir, path.join(this.dir, 'credentials')]) {
        await mkdir(d, { recursive: true, mode: 0o700 });
        if (process.platform !== 'win32') await chmod(d, 0o700);
      }
    })();
    return this.ready;
  }

  // ---- configured servers

  private async readServers(): Promise<ServersFile> {
    return (await readJson<ServersFile>(this.serversFile)) ?? { version: 1, servers: {} };
  }

  async listServers(): Promise<ServerEntry[]> {
    return Object.values((await this.readServers()).servers).sort((a, b) => a.name.localeCompare(b.name));
  }

  async getServer(name: string): Promise<ServerEntry | undefined> {
    return (await this.readServers()).servers[name];
  }

  async addServer(entry: ServerEntry): Promise<void> {
    validateServerName(entry.name);
    await this.ensureDir();
    await withFileLock(path.join(this.dir, 'servers.lock'), async () => {
      const file = await this.readServers();
      if (file.servers[entry.name]) throw new ClientError(`A server named "${entry.name}" already exists (remove it first, or pick another name)`);
      file.servers[entry.name] = entry;
      await writeFileAtomic(this.serversFile, JSON.stringify(file, null, 2) + '\n');
    });
  }

  async removeServer(name: string): Promise<boolean> {
    await this.ensureDir();
    return withFileLock(path.join(this.dir, 'servers.lock'), async () => {
      const file = await this.readServers();
      if (!file.servers[name]) return false;
      delete file.servers[name];
      await writeFileAtomic(this.serversFile, JSON.stringify(file, null, 2) + '\n');
      return true;
    });
  }

  // ---- credentials, keyed by server URL

  async readCredentials(url: string): Promise<Credentials | undefined> {
    const c = await readJson<Credentials>(this.credentialsFile(url));
    return c && c.version === 1 && c.serverUrl === normalizeServerUrl(url) ? c : undefined;
  }

  async writeCredentials(credentials: Credentials): Promise<void> {
    await this.ensureDir();
    const c = { ...credentials, serverUrl: normalizeServerUrl(credentials.serverUrl), updatedAt: new Date().toISOString() };
    await writeFileAtomic(this.credentialsFile(c.serverUrl), JSON.stringify(c, null, 2) + '\n');
  }

  async deleteCredentials(url: string): Promise<boolean> {
    const file = this.credentialsFile(url);
    const existed = (await readJson(file).catch(() => undefined)) !== undefined;
    await rm(file, { force: true });
    return existed;
  }

  /** Runs `fn` holding this server's cross-process lock (one refresh or sign-in write at a time). */
  async withLock<T>(url: string, fn: () => Promise<T>): Promise<T> {
    await this.ensureDir();
    return withFileLock(this.lockFile(url), fn);
  }

  /** Read-modify-write under the lock: `fn` gets the current credentials and returns the new ones (or null to delete). */
  async updateCredentials(url: string, fn: (current: Credentials | undefined) => Credentials | null | undefined | Promise<Credentials | null | undefined>): Promise<Credentials | undefined> {
    return this.withLock(url, async () => {
      const next = await fn(await this.readCredentials(url));
      if (next === null) {
        await this.deleteCredentials(url);
        return undefined;
      }
      if (next) await this.writeCredentials(next);
      return next ?? (await this.readCredentials(url));
    });
  }

  /** Names of the credential files (for tests and `list`). */
  async credentialFiles(): Promise<string[]> {
    try {
      return (await readdir(path.join(this.dir, 'credentials'))).filter((f) => f.endsWith('.json'));
    } catch {
      return [];
    }
  }
}
