// What `tollgate mcp …` does (loaded only when one of those commands runs; see mcp.ts for the command table).
import { createInterface } from 'node:readline';
import { CommandError, UsageError, type Command, type CommandIO } from './command.ts';
import { table } from './format.ts';
import { CredentialStore, normalizeServerUrl, validateServerName, type Credentials, type ServerEntry } from '../client/credential-store.ts';
import { OAuthSession, tokenIsFresh, type ServerTarget, type SignInMode } from '../client/oauth-session.ts';
import type { SignInPrompt } from '../client/authorization-flow.ts';
import { canOpenBrowser, openBrowser } from '../client/browser.ts';
import { createProgress, type Progress } from '../client/progress.ts';
import { stableCallbackPort } from '../client/loopback-callback.ts';
import { McpHttpClient, type Tool } from '../client/mcp-http-client.ts';
import { formatToolResult, formatTools, parseToolArgs } from '../client/tool-format.ts';
import { runStdioProxy } from '../client/stdio-proxy.ts';
import { isLoopbackHost } from '../client/http.ts';

const storeFor = (io: CommandIO) => CredentialStore.fromEnv(io.env);

function checkServerUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`"${raw}" is not a URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new UsageError(`${raw}: only http(s) MCP servers are supported`);
  // Bearer tokens over plain http would be readable on the network (RFC 6750 §5.3): only for this machine.
  if (u.protocol === 'http:' && !isLoopbackHost(u.hostname)) throw new CommandError(`${raw} uses plain http; tokens would travel unencrypted. Use https (http is accepted for localhost only)`);
  return normalizeServerUrl(raw);
}

async function entryFor(io: CommandIO, name: string): Promise<ServerEntry> {
  const store = storeFor(io);
  const entry = await store.getServer(name);
  if (entry) return entry;
  const names = (await store.listServers()).map((s) => s.name);
  throw new CommandError(`No server named "${name}"${names.length ? ` (configured: ${names.join(', ')})` : ''}; add it with \`tollgate mcp add ${name} --url <url>\``);
}

const targetOf = (e: ServerEntry): ServerTarget => ({
  name: e.name,
  url: e.url,
  clientId: e.clientId,
  clientSecret: e.clientSecret,
  clientMetadataUrl: e.clientMetadataUrl,
  scope: e.scope,
  callbackPort: e.callbackPort,
});

function progressFor(io: CommandIO): Progress {
  return createProgress(process.stderr, !!process.stderr.isTTY, (t) => io.err(t));
}

/** Pasted lines from stdin, for headless sign-in; closing stops reading so the process can exit. */
function stdinLines(): { lines: AsyncIterable<string>; close(): void } {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  return {
    lines: rl,
    close() {
      rl.close();
      process.stdin.destroy();
    },
  };
}

function promptFor(io: CommandIO, label: string, progress: Progress, opts: { paste: boolean; browser: boolean }): SignInPrompt {
  return {
    label,
    progress,
    openBrowser: opts.browser ? (url) => openBrowser(url, io.env) : undefined,
    readPastedLines: opts.paste ? stdinLines : undefined,
  };
}

function session(io: CommandIO, target: ServerTarget, mode: SignInMode, progress: Progress, noBrowser = false): OAuthSession {
  const label = target.name ? `"${target.name}" (${target.url})` : target.url;
  return new OAuthSession(storeFor(io), target, {
    signIn: mode,
    prompt: promptFor(io, label, progress, { paste: mode === 'interactive', browser: !noBrowser }),
  });
}

/** tools/call sign in on their own when someone is at a terminal, or a browser can be shown; never otherwise. */
function defaultMode(io: CommandIO): SignInMode {
  if (process.stdin.isTTY && process.stderr.isTTY) return 'interactive';
  return canOpenBrowser(io.env) ? 'browser' : 'never';
}

/** TOLLGATE_DEVICE_POLL_SCALE_MS shortens the polling interval's seconds (tests); otherwise a second is a second. */
function devicePollScale(env: Record<string, string | undefined>): number | undefined {
  const n = Number(env.TOLLGATE_DEVICE_POLL_SCALE_MS);
  return Number.isFinite(n) && n > 0 && n < 1000 ? n : undefined;
}

function describeExpiry(c: Credentials | undefined): string {
  if (!c?.tokens) return 'not signed in';
  const t = c.tokens;
  if (!t.expiresAt) return 'signed in';
  const mins = Math.round((t.expiresAt - Date.now()) / 60_000);
  if (tokenIsFresh(t)) return `signed in (token valid ${mins >= 60 ? `${Math.round(mins / 60)} h` : `${Math.max(mins, 1)} min`})`;
  return t.refreshToken ? 'signed in (token expired; refreshes on next use)' : 'sign-in expired';
}

async function readSecretFromStdin(): Promise<string> {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  for await (const line of rl) {
    rl.close();
    return line.trim();
  }
  return '';
}

const timeoutOption = (v: unknown, fallback: number): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError('--timeout must be a number of seconds');
  return n * 1000;
};

/** Connects (signing in as the mode allows) and runs `fn` with an initialized client; always closes. */
async function withClient<T>(s: OAuthSession, progress: Progress, fn: (client: McpHttpClient) => Promise<T>, timeoutMs?: number): Promise<T> {
  const client = new McpHttpClient(s.target.url, { auth: s, timeoutMs });
  try {
    progress.step(`Connecting to ${s.target.url}`);
    await client.connect();
    progress.stop();
    return await fn(client);
  } finally {
    progress.stop();
    await client.close();
  }
}

async function runToolCall(io: CommandIO, client: McpHttpClient, progress: Progress, toolName: string, argsJson: string | undefined, pairs: string[], json: boolean, listed?: Tool[]): Promise<number> {
  progress.step('Listing tools');
  const tools: Tool[] = listed ?? (await client.listTools());
  progress.stop();
  const tool = tools.find((t) => t.name === toolName);
  if (!tool) throw new CommandError(`The server has no tool "${toolName}"${tools.length ? ` (it has: ${tools.map((t) => t.name).join(', ')})` : ''}`);
  const args = parseToolArgs(argsJson, pairs, tool);
  progress.step(`Calling ${toolName}`);
  const result = await client.callTool(toolName, args, (p) => {
    const pct = p.total ? ` ${Math.round((100 * p.progress) / p.total)}%` : '';
    progress.step(`Calling ${toolName}${pct}${p.message ? ` — ${p.message}` : ''}`);
  }, tool);
  progress.stop();
  if (json) io.out(JSON.stringify(result, null, 2));
  else {
    const text = formatToolResult(result);
    if (text) io.out(text);
  }
  if (result.isError) {
    io.err(`The tool ${toolName} reported an error.`);
    return 1;
  }
  return 0;
}

export const mcpActions: Record<string, Command['run']> = {
  async add({ values, positionals }, io) {
    const [name] = positionals;
    try {
      validateServerName(name);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (!values.url) throw new UsageError('--url is required');
    const url = checkServerUrl(values.url as string);
    if (values['client-secret'] !== undefined && !values['client-id']) throw new UsageError('--client-secret needs --client-id');
    let clientSecret = values['client-secret'] as string | undefined;
    if (clientSecret === '-') clientSecret = await readSecretFromStdin();
    const metadataUrl = values['client-metadata-url'] as string | undefined;
    if (metadataUrl && !/^https:\/\/[^/]+\/.+/.test(metadataUrl)) throw new UsageError('--client-metadata-url must be an https URL with a path');
    let callbackPort = stableCallbackPort(url);
    if (values['callback-port'] !== undefined) {
      callbackPort = Number(values['callback-port']);
      if (!Number.isInteger(callbackPort) || callbackPort < 1024 || callbackPort > 65535) throw new UsageError('--callback-port must be a port number from 1024 to 65535');
    }
    const store = storeFor(io);
    await store.addServer({
      name,
      url,
      clientId: values['client-id'] as string | undefined,
      clientSecret,
      clientMetadataUrl: metadataUrl,
      scope: values.scope as string | undefined,
      callbackPort,
      addedAt: new Date().toISOString(),
    });
    io.out(`Added ${name} → ${url}. Sign in with \`tollgate mcp login ${name}\`.`);
  },
  async list({ values }, io) {
    const store = storeFor(io);
    const servers = await store.listServers();
    const rows = await Promise.all(servers.map(async (s) => ({ s, c: await store.readCredentials(s.url) })));
    if (values.json) {
      // Never credentials: only whether they exist.
      io.out(
        JSON.stringify(
          rows.map(({ s, c }) => ({
            name: s.name,
            url: s.url,
            clientId: s.clientId,
            hasClientSecret: !!s.clientSecret,
            clientMetadataUrl: s.clientMetadataUrl,
            scope: s.scope,
            callbackPort: s.callbackPort,
            issuer: c?.issuer,
            signedIn: !!c?.tokens,
            expiresAt: c?.tokens?.expiresAt ? new Date(c.tokens.expiresAt).toISOString() : undefined,
            grantedScope: c?.tokens?.scope,
          })),
          null,
          2,
        ),
      );
      return;
    }
    if (!rows.length) {
      io.out('No MCP servers configured. Add one with `tollgate mcp add <name> --url <url>`.');
      return;
    }
    io.out(table([['NAME', 'URL', 'STATUS', 'ISSUER'], ...rows.map(({ s, c }) => [s.name, s.url, describeExpiry(c), c?.issuer ?? ''])]));
  },
  async remove({ positionals }, io) {
    const entry = await entryFor(io, positionals[0]);
    const result = await session(io, targetOf(entry), 'never', progressFor(io)).signOut();
    await storeFor(io).removeServer(entry.name);
    io.out(`Removed ${entry.name}${result.hadCredentials ? (result.revoked ? ' (tokens revoked)' : ' (local credentials deleted; the server did not confirm revocation)') : ''}.`);
  },
  async login({ values, positionals }, io) {
    const entry = await entryFor(io, positionals[0]);
    const progress = progressFor(io);
    const s = new OAuthSession(storeFor(io), targetOf(entry), {
      signIn: 'interactive',
      prompt: promptFor(io, `"${entry.name}" (${entry.url})`, progress, { paste: true, browser: values['no-browser'] !== true }),
      signInTimeoutMs: timeoutOption(values.timeout, 300_000),
      // RFC 8628: no browser or callback here; the user approves on any device.
      device: values.device === true,
      devicePollScaleMs: devicePollScale(io.env),
    });
    const c = await s.signIn();
    io.out(`Signed in to ${entry.name} (${entry.url}).`);
    io.out(`  authorization server: ${c.issuer}`);
    if (c.tokens?.scope) io.out(`  scope: ${c.tokens.scope}`);
    io.out(`  ${describeExpiry(c)}${c.tokens?.refreshToken ? '; refreshes automatically' : '; no refresh token (sign in again when it expires)'}`);
  },
  async logout({ positionals }, io) {
    const entry = await entryFor(io, positionals[0]);
    const result = await session(io, targetOf(entry), 'never', progressFor(io)).signOut();
    if (!result.hadCredentials) io.out(`Not signed in to ${entry.name}.`);
    else io.out(result.revoked ? `Signed out of ${entry.name}: tokens revoked and local credentials deleted.` : `Signed out of ${entry.name}: local credentials deleted (the server offers no revocation or did not confirm it).`);
  },
  async tools({ values, positionals }, io) {
    const entry = await entryFor(io, positionals[0]);
    const progress = progressFor(io);
    const tools = await withClient(session(io, targetOf(entry), defaultMode(io), progress), progress, async (client) => {
      progress.step('Listing tools');
      return client.listTools();
    });
    io.out(values.json ? JSON.stringify(tools, null, 2) : formatTools(tools));
  },
  async call({ values, positionals }, io) {
    const [name, toolName, ...pairs] = positionals;
    const entry = await entryFor(io, name);
    const progress = progressFor(io);
    return withClient(
      session(io, targetOf(entry), defaultMode(io), progress),
      progress,
      (client) => runToolCall(io, client, progress, toolName, values.args as string | undefined, pairs, values.json === true),
      timeoutOption(values.timeout, 300_000),
    );
  },
  async proxy({ positionals }, io) {
    const entry = await entryFor(io, positionals[0]);
    // stdin carries the protocol: no paste-back; a browser only where one can be shown.
    const progress = createProgress(process.stderr, false, (t) => io.err(t));
    const s = session(io, targetOf(entry), canOpenBrowser(io.env) ? 'browser' : 'never', progress);
    const client = new McpHttpClient(entry.url, { auth: s, timeoutMs: 3600_000 });
    await runStdioProxy({ client, input: process.stdin, output: process.stdout, log: (t) => io.err(t) });
  },
  async connect({ values, positionals }, io) {
    const [rawUrl, ...pairs] = positionals;
    const url = checkServerUrl(rawUrl);
    if (pairs.length && !values.call) throw new UsageError('key=value arguments need --call <tool>');
    const progress = progressFor(io);
    const target: ServerTarget = {
      url,
      clientId: values['client-id'] as string | undefined,
      clientSecret: values['client-secret'] as string | undefined,
      clientMetadataUrl: values['client-metadata-url'] as string | undefined,
      scope: values.scope as string | undefined,
      callbackPort: stableCallbackPort(url),
    };
    const s = session(io, target, 'interactive', progress, values['no-browser'] === true);
    return withClient(s, progress, async (client) => {
      progress.step('Listing tools');
      const tools = await client.listTools();
      progress.stop();
      const info = client.serverInfo;
      if (!values.call) {
        if (values.json) io.out(JSON.stringify({ serverInfo: info, protocolVersion: client.protocolVersion, tools }, null, 2));
        else io.out(`Connected to ${info?.name ?? url}${info?.version ? ` ${info.version}` : ''} (MCP ${client.protocolVersion}).\n\n${formatTools(tools)}`);
        return 0;
      }
      return runToolCall(io, client, progress, values.call as string, values.args as string | undefined, pairs, values.json === true, tools);
    });
  },
};
