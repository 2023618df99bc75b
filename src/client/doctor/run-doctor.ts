// Runs every client sequence against a server and reports, per client, what passed and the first divergence.
import { Prober } from './probe.ts';
import { anonymousInitialize, deleteRegistrations, Divergence, type FlowState } from './steps.ts';
import { clientProfiles } from './clients.ts';

export interface StepOutcome {
  title: string;
  status: 'pass' | 'fail' | 'not run';
  detail?: string;
}

export interface ClientOutcome {
  id: string;
  name: string;
  about: string;
  passed: boolean;
  steps: StepOutcome[];
}

export interface DoctorReport {
  url: string;
  /** False when the server answered without asking for a token: nothing OAuth to check. */
  requiresAuth: boolean;
  anonymousStatus: number | string;
  clients: ClientOutcome[];
  passed: boolean;
  requests: number;
  /** Clients registered on the server, and how many of those were deleted again (RFC 7592). */
  registrations: { made: number; deleted: number };
}

export interface DoctorOptions {
  /** Client ids to run (default: all). */
  only?: string[];
  timeoutMs?: number;
  onClient?: (name: string) => void;
}

export const doctorClientIds = clientProfiles.map((p) => p.id);

export async function runDoctor(url: string, options: DoctorOptions = {}): Promise<DoctorReport> {
  const prober = new Prober(options.timeoutMs);
  const ctx = { url, prober };
  const first = await anonymousInitialize(ctx);
  if (first.status >= 200 && first.status < 300) {
    return { url, requiresAuth: false, anonymousStatus: first.status, clients: [], passed: true, requests: prober.log.length, registrations: { made: 0, deleted: 0 } };
  }
  const clients: ClientOutcome[] = [];
  const registrations = { made: 0, deleted: 0 };
  for (const profile of clientProfiles) {
    if (options.only?.length && !options.only.includes(profile.id)) continue;
    options.onClient?.(profile.name);
    const state: FlowState = {};
    const steps: StepOutcome[] = [];
    let failed = false;
    for (const step of profile.steps()) {
      if (failed) {
        steps.push({ title: step.title, status: 'not run' });
        continue;
      }
      try {
        const detail = await step.run(ctx, state);
        steps.push({ title: step.title, status: 'pass', detail: detail || undefined });
      } catch (err) {
        failed = true;
        const message = err instanceof Divergence ? err.message : `the check itself failed: ${(err as Error).message}`;
        steps.push({ title: step.title, status: 'fail', detail: message });
      }
    }
    const cleaned = await deleteRegistrations(ctx, state);
    registrations.made += cleaned.made;
    registrations.deleted += cleaned.deleted;
    clients.push({ id: profile.id, name: profile.name, about: profile.about, passed: !failed, steps });
  }
  return { url, requiresAuth: true, anonymousStatus: first.error ?? first.status, clients, passed: clients.every((c) => c.passed), requests: prober.log.length, registrations };
}

export function formatReport(report: DoctorReport, color = false): string {
  const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const lines = [`tollgate doctor ${report.url}`, ''];
  if (!report.requiresAuth) {
    lines.push(`The server answered an initialize without a token (${report.anonymousStatus}): it does not use OAuth, so there is nothing to check.`);
    return lines.join('\n');
  }
  for (const c of report.clients) {
    lines.push(`${c.passed ? paint('32', '✓') : paint('31', '✗')} ${paint('1', c.name)} — ${c.about}`);
    for (const s of c.steps) {
      if (s.status === 'pass') lines.push(`    ${paint('32', '✓')} ${s.title}${s.detail ? paint('2', ` — ${s.detail}`) : ''}`);
      else if (s.status === 'fail') lines.push(`    ${paint('31', '✗')} ${s.title}`, `      ${paint('31', 'first divergence:')} ${s.detail}`);
    }
    const notRun = c.steps.filter((s) => s.status === 'not run').length;
    if (notRun) lines.push(paint('2', `    … ${notRun} later step${notRun === 1 ? '' : 's'} not run`));
    lines.push('');
  }
  const failed = report.clients.filter((c) => !c.passed);
  lines.push(
    failed.length
      ? paint('31', `${failed.length} of ${report.clients.length} client sequences diverge: ${failed.map((c) => c.name).join(', ')}.`)
      : paint('32', `All ${report.clients.length} client sequences pass.`),
  );
  const { made, deleted } = report.registrations;
  const left = made - deleted;
  const cleanup = !made
    ? 'no clients registered'
    : `${made} client${made === 1 ? '' : 's'} registered, ${deleted} deleted again${deleted ? ' (RFC 7592)' : ''}${left ? `; ${left === made ? 'the server offers no RFC 7592 deletion, so they are' : `the ${left} left are`} named "… (tollgate doctor)" and never used` : ''}`;
  lines.push(paint('2', `(${report.requests} requests; ${cleanup}.)`));
  return lines.join('\n');
}
