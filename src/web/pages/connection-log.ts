// The per-client connection log as a workspace sees it: registration, authorization, tokens, the first MCP call and
// errors, each with its request id. A workspace sees the events bound to it; events bound to no workspace yet
// (registration, authorization and token errors) only for clients it owns or self-registered clients connected to
// it, never those of clients many tenants share (pre-registered, metadata-document clients).
import { html } from 'hono/html';
import type { ClientEvent, ClientEventKind } from '../../oauth/index.ts';
import type { PageDeps } from '../deps.ts';
import { agoTag, formatUtc } from '../format.ts';
import type { Html } from '../layout.ts';

const KINDS: Record<ClientEventKind, { label: string; error?: boolean }> = {
  registered: { label: 'Registered' },
  authorize: { label: 'Authorization requested' },
  authorize_error: { label: 'Authorization error', error: true },
  consent_approved: { label: 'Approved' },
  consent_denied: { label: 'Denied' },
  token: { label: 'Tokens issued' },
  token_error: { label: 'Token error', error: true },
  refresh: { label: 'Tokens refreshed' },
  refresh_replay: { label: 'Refresh token replayed', error: true },
  revoked: { label: 'Revoked' },
  mcp_first_call: { label: 'First MCP call' },
  mcp_error: { label: 'MCP error', error: true },
};

export async function visibleEvents(services: PageDeps, clientId: string, workspaceId: string, includeUnbound: boolean): Promise<ClientEvent[]> {
  const events = await services.oauth.clientEvents.list(clientId, 200);
  return events.filter((e) => e.workspaceId === workspaceId || (includeUnbound && e.workspaceId === null)).slice(0, 100);
}

export function renderConnectionLog(events: ClientEvent[]): Html {
  if (!events.length) return html`<p class="empty">Nothing logged for this client yet.</p>`;
  return html`<div class="table-wrap"><table class="stack">
      <caption class="visually-hidden">Connection log, newest first</caption>
      <thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Details</th><th scope="col">Request id</th></tr></thead>
      <tbody>
        ${events.map((e) => {
          const kind = KINDS[e.kind] ?? { label: e.kind };
          return html`<tr>
            <td data-label="When" title="${formatUtc(e.createdAt)}">${agoTag(e.createdAt)}</td>
            <td data-label="Event">${kind.error ? html`<span class="badge warn">${kind.label}</span>` : kind.label}</td>
            <td data-label="Details">${e.detail}</td>
            <td data-label="Request id">${e.requestId ? html`<code>${e.requestId}</code>` : ''}</td>
          </tr>`;
        })}
      </tbody>
    </table></div>`;
}
