import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isObject } from '../util/json.ts';
import { UserFacingError } from '../util/errors.ts';
import { settings, type Setting, type SettingKey } from './defaults.ts';

type ValueOf<S extends Setting> = S['type'] extends 'integer'
  ? number
  : S['type'] extends 'boolean'
    ? boolean
    : S['default'] extends null
      ? string | undefined
      : string;

type RawConfig = { -readonly [K in SettingKey]: ValueOf<(typeof settings)[K]> };

/** The validated configuration. Derived settings (`publicUrl`, `databaseUrl`) are always filled in. */
export interface Config extends Omit<RawConfig, 'publicUrl' | 'databaseUrl'> {
  publicUrl: string;
  databaseUrl: string;
}

export class ConfigError extends UserFacingError {
  readonly key: string;
  constructor(key: string, message: string) {
    super(`Invalid configuration for ${key}: ${message}`);
    this.key = key;
  }
}

function parseValue(key: string, setting: Setting, raw: unknown, source: string): string | number | boolean {
  const where = `${key} (${source})`;
  switch (setting.type) {
    case 'integer': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
      if (!Number.isSafeInteger(n)) throw new ConfigError(where, 'expected a whole number');
      if (setting.min !== undefined && n < setting.min) throw new ConfigError(where, `must be at least ${setting.min}`);
      if (setting.max !== undefined && n > setting.max) throw new ConfigError(where, `must be at most ${setting.max}`);
      return n;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      const v = String(raw).trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw new ConfigError(where, 'expected true or false');
    }
    case 'enum': {
      const v = String(raw).trim();
      if (!setting.values?.includes(v)) throw new ConfigError(where, `expected one of ${setting.values?.join(', ')}`);
      return v;
    }
    case 'url': {
      const v = String(raw).trim();
      let u: URL;
      try {
        u = new URL(v);
      } catch {
        throw new ConfigError(where, 'expected an absolute http(s) URL');
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(where, 'expected an http(s) URL');
      if (u.search || u.hash) throw new ConfigError(where, 'must not have a query or fragment');
      return v.replace(/\/+$/, '');
    }
    default:
      if (typeof raw !== 'string') throw new ConfigError(where, 'expected a string');
      return raw;
  }
}

export interface LoadOptions {
  env?: Record<string, string | undefined>;
  /** Values that win over everything (used by tests and the CLI). */
  overrides?: Partial<Record<SettingKey, string | number | boolean>>;
  cwd?: string;
}

/**
 * Builds the configuration from, in rising order of precedence: defaults, the JSON file named by
 * `TOLLGATE_CONFIG`, environment variables, and explicit overrides. Throws ConfigError naming the key.
 */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  let file: Record<string, unknown> = {};
  const filePath = env.TOLLGATE_CONFIG;
  if (filePath) {
    let text: string;
    try {
      text = readFileSync(path.resolve(cwd, filePath), 'utf8');
    } catch (err) {
      throw new ConfigError('TOLLGATE_CONFIG', `cannot read ${filePath} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (!isObject(parsed)) throw new Error('not an object');
      file = parsed as Record<string, unknown>;
    } catch {
      throw new ConfigError('TOLLGATE_CONFIG', `${filePath} is not a JSON object`);
    }
    for (const key of Object.keys(file)) {
      if (!(key in settings)) throw new ConfigError(key, `unknown key in ${filePath}`);
    }
  }

  const out: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(settings) as [SettingKey, Setting][]) {
    let value: unknown = setting.default ?? undefined;
    if (file[key] !== undefined && file[key] !== null) value = parseValue(key, setting, file[key], 'config file');
    const envValue = env[setting.env];
    if (envValue !== undefined && envValue !== '') value = parseValue(setting.env, setting, envValue, 'environment');
    const override = options.overrides?.[key];
    if (override !== undefined) value = parseValue(key, setting, override, 'override');
    out[key] = value;
  }

  const config = out as unknown as RawConfig;
  const publicUrl = canonicalPublicUrl(config.publicUrl ?? `http://${formatHost(config.host)}:${config.port}`);
  const dataDir = path.resolve(cwd, config.dataDir);
  let databaseUrl = config.databaseUrl ?? `sqlite:${path.join(dataDir, 'tollgate.db')}`;
  if (databaseUrl.startsWith('sqlite:') && databaseUrl !== 'sqlite::memory:') {
    databaseUrl = `sqlite:${path.resolve(cwd, databaseUrl.slice('sqlite:'.length))}`;
  }
  return { ...config, dataDir, publicUrl, databaseUrl };
}

/**
 * The one spelling of the public URL that every issuer, resource and metadata URL is derived from: scheme and host
 * lower-cased, the default port dropped, no trailing slash (RFC 3986 §6.2.3 scheme-based normalisation). Clients
 * compare these URLs byte for byte (RFC 8707 `aud`, RFC 9728 `resource`, RFC 8414 `issuer`).
 */
export function canonicalPublicUrl(raw: string): string {
  const u = new URL(raw);
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

function formatHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
