import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserFacingError } from '../util/errors.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface CommandIO {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
}

export interface Command {
  /** The words that select it: `['admin', 'user', 'create']`. */
  readonly path: readonly string[];
  readonly summary: string;
  /** Argument synopsis after the path, e.g. `<email> [--password <pw>]`. */
  readonly args?: string;
  readonly options?: Options;
  /** Number of positional arguments: exact, or [min, max]. */
  readonly positionals?: number | readonly [number, number];
  run(input: { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] }, io: CommandIO): Promise<number | void>;
}

/** Thrown for bad arguments: main prints the message and the usage, and exits with 2. */
export class UsageError extends Error {}


/** A failure the user can act on: main prints the message (no stack) and exits with 1. */
export class CommandError extends UserFacingError {}

export function usageLine(cmd: Command): string {
  return `tollgate ${cmd.path.join(' ')}${cmd.args ? ' ' + cmd.args : ''}`;
}

/**
 * `--name value` where the value starts with a dash (a generated secret can: base64url has `-`) is `--name=value`:
 * node:util's parseArgs refuses it as ambiguous, unless the value is itself one of the command's options.
 */
export function joinDashValues(options: Options, argv: readonly string[]): string[] {
  const flags = new Set<string>();
  for (const [name, o] of Object.entries(options)) {
    flags.add(`--${name}`);
    if (o.short) flags.add(`-${o.short}`);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && next.length > 1 && next.startsWith('-') && !flags.has(next.split('=')[0])) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

export function parseCommandArgs(cmd: Command, argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({ args: joinDashValues(cmd.options ?? {}, argv), options: cmd.options ?? {}, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0].replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
  const [min, max] = typeof cmd.positionals === 'number' ? [cmd.positionals, cmd.positionals] : (cmd.positionals ?? [0, 0]);
  if (parsed.positionals.length < min) throw new UsageError('missing arguments');
  if (parsed.positionals.length > max) throw new UsageError(`unexpected argument "${parsed.positionals[max]}"`);
  return { values: parsed.values as Record<string, string | boolean | string[] | undefined>, positionals: parsed.positionals };
}
