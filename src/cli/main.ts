import { commands } from './commands.ts';
import { parseCommandArgs, usageLine, UsageError, type Command, type CommandIO } from './command.ts';
import { UserFacingError } from '../util/errors.ts';

function help(list: Command[], prefix: string[] = []): string {
  const rows = list.map((c) => [usageLine(c), c.summary]);
  const width = Math.min(60, Math.max(...rows.map((r) => r[0].length)));
  const title = prefix.length ? `tollgate ${prefix.join(' ')} — commands:` : 'Tollgate — OAuth-protected, credit-metered remote MCP servers.\n\nUsage:';
  return [title, ...rows.map(([u, s]) => `  ${u.padEnd(width)}  ${s}`), '', 'Configuration comes from TOLLGATE_* environment variables and --config <tollgate.toml|.json> (see the README); check it with `tollgate config check`.'].join('\n');
}

/**
 * `--config <file>` (or `--config=<file>`) anywhere on the line names the configuration file for every command: it
 * becomes TOLLGATE_CONFIG for this run.
 */
export function takeConfigOption(argv: string[], io: CommandIO): { argv: string[]; io: CommandIO } | string {
  const rest: string[] = [];
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--config') {
      if (i + 1 >= argv.length || argv[i + 1].startsWith('-')) return '--config needs a file (tollgate.toml or tollgate.json)';
      file = argv[++i];
    } else if (a.startsWith('--config=')) {
      file = a.slice('--config='.length);
      if (!file) return '--config needs a file (tollgate.toml or tollgate.json)';
    } else rest.push(a);
  }
  return file === undefined ? { argv, io } : { argv: rest, io: { ...io, env: { ...io.env, TOLLGATE_CONFIG: file } } };
}

/** Runs the CLI; returns the exit code (0 ok, 1 failure, 2 usage). */
export async function runCli(rawArgv: string[], rawIo: CommandIO): Promise<number> {
  const taken = takeConfigOption(rawArgv, rawIo);
  if (typeof taken === 'string') {
    rawIo.err(taken);
    return 2;
  }
  const { argv, io } = taken;
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(help(commands));
    return argv.length === 0 ? 2 : 0;
  }
  // The longest command path that prefixes argv.
  const match = commands
    .filter((c) => c.path.every((w, i) => argv[i] === w))
    .sort((a, b) => b.path.length - a.path.length)[0];
  if (!match) {
    // A group such as `tollgate admin user`: list its commands.
    const words = argv.filter((a) => !a.startsWith('-'));
    const related = commands.filter((c) => words.every((w, i) => c.path[i] === w));
    const wantsHelp = argv.includes('--help') || argv.includes('-h');
    if (related.length) {
      io[wantsHelp ? 'out' : 'err'](help(related, words));
      return wantsHelp ? 0 : 2;
    }
    io.err(`Unknown command "${argv.join(' ')}".\n\n${help(commands)}`);
    return 2;
  }
  const rest = argv.slice(match.path.length);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`Usage: ${usageLine(match)}\n\n${match.summary}`);
    return 0;
  }
  try {
    const input = parseCommandArgs(match, rest);
    return (await match.run(input, io)) ?? 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${err.message}\nUsage: ${usageLine(match)}`);
      return 2;
    }
    if (err instanceof UserFacingError) {
      io.err(`Error: ${err.message}`);
      return 1;
    }
    io.err(`Unexpected error: ${(err as Error)?.message ?? String(err)}`);
    return 1;
  }
}

/**
 * A write end whose reader has gone away (`tollgate … | head -1`) goes quiet instead of crashing the process with
 * an unhandled EPIPE: the command finishes what it was doing (a write it started still commits) and exits as usual,
 * printing nothing more to that stream. Any other stream error is unexpected and still surfaces.
 */
function quietOnClosedPipe(stream: NodeJS.WriteStream): { write(text: string): void } {
  let closed = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') {
      closed = true;
      return;
    }
    throw err;
  });
  return {
    write(text) {
      if (!closed && !stream.destroyed) stream.write(text);
    },
  };
}

/** The process entry point (also called by bin/tollgate.js). */
export async function main(): Promise<void> {
  const stdout = quietOnClosedPipe(process.stdout);
  const stderr = quietOnClosedPipe(process.stderr);
  process.exitCode = await runCli(process.argv.slice(2), {
    out: (t) => stdout.write(t + '\n'),
    err: (t) => stderr.write(t + '\n'),
    env: process.env,
  });
}

if (import.meta.main) await main();
