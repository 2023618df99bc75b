// `tollgate config check`: loads the configuration exactly as `serve` would (defaults, the file, the environment),
// reports every problem at once, and prints the settings that differ from their defaults (secrets as "(set)").
import { ConfigError, loadConfig } from '../config/config.ts';
import { settings, type Setting, type SettingKey } from '../config/defaults.ts';
import { redactUrl } from '../store/store.ts';
import type { Command } from './command.ts';

export const configCheckCommand: Command = {
  path: ['config', 'check'],
  summary: 'Validate the configuration (file from --config or TOLLGATE_CONFIG, and the environment); list every problem.',
  async run(_input, io) {
    let config;
    try {
      config = loadConfig({ env: io.env });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      io.err(`Configuration is invalid (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}):`);
      for (const p of err.problems) io.err(`  - ${p.key}: ${p.message}`);
      return 1;
    }
    const source = io.env.TOLLGATE_CONFIG ? ` (file: ${io.env.TOLLGATE_CONFIG}, and the environment)` : ' (the environment; no file)';
    io.out(`Configuration is valid${source}.`);
    const changed = (Object.entries(settings) as [SettingKey, Setting][]).filter(([key, s]) => {
      const v = (config as unknown as Record<string, unknown>)[key];
      return v !== undefined && v !== s.default;
    });
    for (const [key, s] of changed) {
      const v = (config as unknown as Record<string, unknown>)[key];
      const shown = s.secret ? '(set)' : key === 'databaseUrl' ? redactUrl(String(v)) : String(v);
      io.out(`  ${key} (${s.env}) = ${shown}`);
    }
    return 0;
  },
};
