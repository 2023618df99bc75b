// Opening the sign-in page: only when there is a display (or the user named a browser command); the URL is
// always printed as well, so a failed or impossible launch never blocks the sign-in.
import { spawn } from 'node:child_process';

/** Splits a command line on whitespace, honouring simple single and double quotes. */
export function splitCommand(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const m of line.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** The command that opens a URL here (the URL is appended), or undefined when no browser can be shown. */
export function browserCommand(env: Record<string, string | undefined>, platform: NodeJS.Platform = process.platform): string[] | undefined {
  const chosen = env.TOLLGATE_BROWSER;
  if (chosen !== undefined) return chosen.trim() && chosen.trim() !== 'none' ? splitCommand(chosen) : undefined;
  const remote = !!(env.SSH_CONNECTION || env.SSH_TTY);
  if (platform === 'darwin') return remote ? undefined : ['open'];
  if (platform === 'win32') return ['rundll32', 'url.dll,FileProtocolHandler'];
  return env.DISPLAY || env.WAYLAND_DISPLAY ? ['xdg-open'] : undefined;
}

export const canOpenBrowser = (env: Record<string, string | undefined>): boolean => browserCommand(env) !== undefined;

/** Starts the browser without waiting for it; false when there is none to start. */
export function openBrowser(url: string, env: Record<string, string | undefined>): boolean {
  const cmd = browserCommand(env);
  if (!cmd?.length) return false;
  try {
    const child = spawn(cmd[0], [...cmd.slice(1), url], { stdio: 'ignore', detached: process.platform !== 'win32', env: { ...process.env, ...env } as NodeJS.ProcessEnv });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}
