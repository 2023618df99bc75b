// The client command for `conformance client --suite auth`: the conformance runner appends the server URL and
// passes the scenario's context (pre-registered credentials) in MCP_CONFORMANCE_CONTEXT; this turns them into
// the arguments of `tollgate mcp connect` and runs it.
import { spawn } from 'node:child_process';
import { CLI } from './cli.ts';

const url = process.argv.at(-1)!;
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}') as { client_id?: string; client_secret?: string };
const args = ['mcp', 'connect', url, '--call', 'test-tool', '--client-metadata-url', 'https://conformance-test.local/client-metadata.json'];
if (context.client_id) args.push('--client-id', context.client_id);
if (context.client_secret) args.push('--client-secret', context.client_secret);
const child = spawn(process.execPath, [CLI, ...args], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
