import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { isObject } from '../util/json.ts';
import { UserFacingError } from '../util/errors.ts';
import { settings, type Setting, type SettingKey } from './defaults.ts';

type ValueOf<S extends Setting> = S['type'] extends 'integer'
  ? S['default'] extends null
    ? number | undefined
    : number
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

export interface ConfigProblem {
  readonly key: string;
  readonly message: string;
}

export class ConfigError extends UserFacingError {
  readonly key: string;
  /** Every problem found (a file and the environment are checked in full before anything is refused). */
  readonly problems: readonly ConfigProblem[];
  constructor(key: string, message: string, more: readonly ConfigProblem[] = []) {
    const problems = [{ key, message }, ...more];
    super(
      problems.length === 1
        ? `Invalid configuration for ${key}: ${message}`
        : `Invalid configuration (${problems.length} problems):\n${problems.map((p) => `  - ${p.key}: ${p.message}`).join('\n')}`,
    );
    this.key = key;
    this.problems = problems;
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
  /** A `.toml` or `.json` file (`--config`); wins over TOLLGATE_CONFIG. */
  configFile?: string;
}

/** `publicUrl` → `public_url`: the spelling a TOML file uses; either is accepted in a file. */
export const snakeCase = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const BY_FILE_KEY = new Map<string, SettingKey>((Object.keys(settings) as SettingKey[]).flatMap((k) => [[k, k] as const, [snakeCase(k), k] as const]));

/** Reads a `.toml` or `.json` configuration file into setting keys; problems are collected, not thrown. */
export function readConfigFile(filePath: string, cwd: string, problems: ConfigProblem[]): Partial<Record<SettingKey, unknown>> {
  let text: string;
  try {
    text = readFileSync(path.resolve(cwd, filePath), 'utf8');
  } catch (err) {
    problems.push({ key: 'TOLLGATE_CONFIG', message: `cannot read ${filePath} (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
    return {};
  }
  let parsed: unknown;
  if (/\.toml$/i.test(filePath)) {
    try {
      parsed = parseToml(text);
    } catch (err) {
      // smol-toml names the line and column.
      problems.push({ key: 'TOLLGATE_CONFIG', message: `${filePath} is not valid TOML (${String((err as Error).message).split('\n')[0]})` });
      return {};
    }
  } else {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!isObject(parsed)) {
      problems.push({ key: 'TOLLGATE_CONFIG', message: `${filePath} is not a JSON object` });
      return {};
    }
  }
  const out: Partial<Record<SettingKey, unknown>> = {};
  for (const [fileKey, value] of Object.entries(parsed as Record<string, unknown>)) {
    const key = BY_FILE_KEY.get(fileKey);
    if (!key) {
      problems.push({ key: fileKey, message: `unknown key in ${filePath}` });
      continue;
    }
    out[key] = value;
  }
  return out;
}

/**
 * Builds the configuration from, in rising order of precedence: defaults, the `.toml` or `.json` file named by
 * `configFile` or `TOLLGATE_CONFIG`, environment variables, and explicit overrides. Every value is checked before
 * anything is refused: a ConfigError lists all the problems, each naming its key.
 */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const problems: ConfigProblem[] = [];
  const filePath = options.configFile ?? env.TOLLGATE_CONFIG;
  const file = filePath ? readConfigFile(filePath, cwd, problems) : {};

  const out: Record<string, unknown> = {};
  const check = (key: string, setting: Setting, raw: unknown, source: string): unknown => {
    try {
      return parseValue(key, setting, raw, source);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
      return undefined;
    }
  };
  for (const [key, setting] of Object.entries(settings) as [SettingKey, Setting][]) {
    let value: unknown = setting.default ?? undefined;
    if (file[key] !== undefined && file[key] !== null) value = check(key, setting, file[key], 'config file') ?? value;
    const envValue = env[setting.env];
    if (envValue !== undefined && envValue !== '') value = check(setting.env, setting, envValue, 'environment') ?? value;
    const override = options.overrides?.[key];
    if (override !== undefined) value = check(key, setting, override, 'override') ?? value;
    out[key] = value;
  }
  const token = out.metricsToken as string | undefined;
  // A scrape token is a bearer credential: too short and it can be guessed.
  if (token !== undefined && token.length < 16) problems.push({ key: 'metricsToken (TOLLGATE_METRICS_TOKEN)', message: 'must be at least 16 characters' });
  if (problems.length) throw new ConfigError(problems[0].key, problems[0].message, problems.slice(1));

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
