// `tollgate mcp …`: a command-line MCP client that signs in to any OAuth-protected MCP server. The table is
// here; what each command does is in mcp-actions.ts, imported only when an `mcp` command runs (so other commands
// do not pay for loading the client).
import type { Command } from './command.ts';

const lazy =
  (name: string): Command['run'] =>
  async (input, io) =>
    (await import('./mcp-actions.ts')).mcpActions[name](input, io);

const clientOptions = {
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  'client-metadata-url': { type: 'string' },
  scope: { type: 'string' },
} as const;

export const mcpCommands: Command[] = [
  {
    path: ['mcp', 'add'],
    summary: 'Add an MCP server (sign in later with `mcp login`).',
    args: '<name> --url <url> [--client-id <id> [--client-secret <secret>|-]] [--client-metadata-url <url>] [--scope <scope>] [--callback-port <port>]',
    positionals: 1,
    options: { url: { type: 'string' }, ...clientOptions, 'callback-port': { type: 'string' } },
    run: lazy('add'),
  },
  {
    path: ['mcp', 'list'],
    summary: 'List the configured MCP servers and whether you are signed in.',
    args: '[--json]',
    options: { json: { type: 'boolean' } },
    run: lazy('list'),
  },
  {
    path: ['mcp', 'remove'],
    summary: 'Sign out of a server (revoking its tokens) and remove it.',
    args: '<name>',
    positionals: 1,
    run: lazy('remove'),
  },
  {
    path: ['mcp', 'login'],
    summary: 'Sign in to a server: browser when there is a display, paste-back otherwise; --device shows a code to enter on any device.',
    args: '<name> [--device] [--no-browser] [--timeout <seconds>]',
    positionals: 1,
    options: { 'no-browser': { type: 'boolean' }, device: { type: 'boolean' }, timeout: { type: 'string' } },
    run: lazy('login'),
  },
  {
    path: ['mcp', 'logout'],
    summary: 'Revoke the tokens at the server and delete the local credentials.',
    args: '<name>',
    positionals: 1,
    run: lazy('logout'),
  },
  {
    path: ['mcp', 'tools'],
    summary: "List a server's tools.",
    args: '<name> [--json]',
    positionals: 1,
    options: { json: { type: 'boolean' } },
    run: lazy('tools'),
  },
  {
    path: ['mcp', 'call'],
    summary: 'Call a tool: arguments as --args JSON and/or key=value pairs (key:=json for JSON values).',
    args: '<name> <tool> [key=value …] [--args <json>] [--json] [--timeout <seconds>]',
    positionals: [2, Infinity],
    options: { args: { type: 'string' }, json: { type: 'boolean' }, timeout: { type: 'string' } },
    run: lazy('call'),
  },
  {
    path: ['mcp', 'proxy'],
    summary: 'Bridge stdio to the server (for stdio-only clients such as Claude Desktop).',
    args: '<name>',
    positionals: 1,
    run: lazy('proxy'),
  },
  {
    path: ['mcp', 'connect'],
    summary: 'Connect to a server by URL (no saved name): sign in as needed, list its tools, optionally call one.',
    args: '<url> [--call <tool> [key=value …] [--args <json>]] [--client-id <id> [--client-secret <secret>]] [--client-metadata-url <url>] [--scope <scope>] [--no-browser] [--json]',
    positionals: [1, Infinity],
    options: { call: { type: 'string' }, args: { type: 'string' }, json: { type: 'boolean' }, 'no-browser': { type: 'boolean' }, ...clientOptions },
    run: lazy('connect'),
  },
];
