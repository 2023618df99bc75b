// `tollgate doctor <url>`: replays the discovery and registration sequences of the major MCP clients against a
// server and prints what passes and, per client, the first divergence. The work is loaded only when it runs.
import { UsageError, type Command } from './command.ts';

export const doctorCommand: Command = {
  path: ['doctor'],
  summary: "Check an MCP server against each major client's OAuth discovery and registration (exit 1 on a divergence).",
  args: '<url> [--client <sdk|claude-code|claude-ai|chatgpt|vscode|cursor|mcp-remote|inspector|hygiene> …] [--json] [--timeout <seconds>]',
  positionals: 1,
  options: { client: { type: 'string', multiple: true }, json: { type: 'boolean' }, timeout: { type: 'string' } },
  async run({ values, positionals }, io) {
    const url = positionals[0];
    try {
      const u = new URL(url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    } catch {
      throw new UsageError(`"${url}" is not an http(s) URL`);
    }
    const { doctorClientIds, formatReport, runDoctor } = await import('../client/doctor/run-doctor.ts');
    const { createProgress } = await import('../client/progress.ts');
    const only = (values.client as string[] | undefined) ?? [];
    const unknown = only.filter((c) => !doctorClientIds.includes(c));
    if (unknown.length) throw new UsageError(`unknown client ${unknown.join(', ')} (known: ${doctorClientIds.join(', ')})`);
    const timeoutMs = values.timeout === undefined ? 15_000 : Number(values.timeout) * 1000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError('--timeout must be a number of seconds');
    const progress = createProgress(process.stderr, !!process.stderr.isTTY && !values.json);
    let report;
    try {
      report = await runDoctor(url, { only, timeoutMs, onClient: (name) => progress.step(`Replaying ${name}`) });
    } finally {
      progress.stop();
    }
    io.out(values.json ? JSON.stringify(report, null, 2) : formatReport(report, !!process.stdout.isTTY && !io.env.NO_COLOR));
    return report.passed ? 0 : 1;
  },
};
