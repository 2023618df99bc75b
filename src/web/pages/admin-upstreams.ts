// Operator page: the upstream MCP servers behind the gateway — add (Streamable HTTP), set prices, remove. The same
// as `tollgate upstream …`, except that stdio upstreams (a program Tollgate runs) are added with the CLI only: a
// web session must not be able to make the server execute a command. Header values are sealed, never shown back.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../../http/env.ts';
import type { PageDeps } from '../deps.ts';
import { describeTarget, priceOf, scopeOf, upstreamInput, UpstreamConfigError, workspaceToolName, type UpstreamTarget } from '../../gateway/index.ts';
import { confirmForm, csrfField, doneFlash, type Flash } from '../components.ts';
import { FormError, requireOperator, type Ctx, type SignedIn } from '../page-context.ts';
import { adminPage, operatorPost } from './admin.ts';
import { webAuditContext } from '../audit-context.ts';

const lines = (text: string | undefined): string[] => (text ?? '').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);

/** Input mistakes are shown on the page (400), not as errors. */
async function checked<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof UpstreamConfigError) throw new FormError(err.message);
    throw err;
  }
}

export function mountAdminUpstreams(app: Hono<AppEnv>, services: PageDeps): void {
  const gw = services.gateway;

  async function upstreamsPage(c: Ctx, op: SignedIn, flash?: Flash, form: Record<string, string> = {}) {
    const [upstreams, tools] = await Promise.all([gw.store.listUpstreams(), gw.store.listTools()]);
    const health = new Map(gw.health().map((h) => [h.name, h.breaker]));
    const body = html`${upstreams.length
        ? upstreams.map((u) => {
            const own = tools.filter((t) => t.upstream === u.name);
            const breaker = health.get(u.name);
            return html`<section class="panel" aria-labelledby="up-${u.name}">
              <h2 id="up-${u.name}">${u.name} ${breaker === 'open' ? html`<span class="badge warn">circuit open</span>` : ''}</h2>
              <p class="muted small">${describeTarget(u.target)} · own URL <code>/&lt;workspace&gt;/mcp/${u.name}</code> · default price ${u.defaultPrice}</p>
              ${own.length
                ? html`<div class="table-wrap"><table>
                    <thead><tr><th scope="col">Tool</th><th scope="col">On workspace endpoints</th><th scope="col">Scope</th><th scope="col">Price</th></tr></thead>
                    <tbody>${own.map(
                      (t) => html`<tr>
                        <td><code>${t.definition.name}</code></td>
                        <td><code>${workspaceToolName(u.name, t.definition.name)}</code></td>
                        <td>${scopeOf(t)}</td>
                        <td><form method="post" action="/admin/upstreams/${u.name}/price" class="inline-form">
                          ${csrfField(op.csrf)}<input type="hidden" name="tool" value="${t.definition.name}" />
                          <label class="visually-hidden" for="p-${u.name}-${t.definition.name}">Price of ${t.definition.name}</label>
                          <input id="p-${u.name}-${t.definition.name}" name="price" type="number" min="0" step="1" value="${priceOf(t, u.defaultPrice)}" />
                          <button type="submit">Set</button>
                        </form></td>
                      </tr>`,
                    )}</tbody>
                  </table></div>`
                : html`<p class="empty">No tools discovered yet (a running server lists them within seconds of reaching it).</p>`}
              ${confirmForm({ action: `/admin/upstreams/${u.name}/remove`, csrf: op.csrf, confirm: `Remove ${u.name}? Its tools disappear from every endpoint.`, label: html`Remove<span class="visually-hidden"> ${u.name}</span>`, buttonClass: 'danger' })}
            </section>`;
          })
        : html`<section class="panel"><p class="empty">No upstream MCP servers yet.</p></section>`}
      <section class="panel" aria-labelledby="add-up-h">
        <h2 id="add-up-h">Add an upstream MCP server</h2>
        <form method="post" action="/admin/upstreams">
          ${csrfField(op.csrf)}
          <label for="up-name">Name <span class="hint">a–z, 0–9 and -, starting with a letter; tools appear as &lt;name&gt;__&lt;tool&gt;.</span></label>
          <input id="up-name" name="name" type="text" required maxlength="32" pattern="[a-z][a-z0-9-]{0,31}" value="${form.name ?? ''}" />
          <label for="up-url">Streamable HTTP URL <span class="hint">A stdio server (a program Tollgate runs) is added with <code>tollgate upstream add &lt;name&gt; --command …</code>.</span></label>
          <input id="up-url" name="url" type="url" required maxlength="2048" value="${form.url ?? ''}" />
          <label for="up-headers">Headers <span class="hint">One "Name: value" per line; sealed, never shown again.</span></label>
          <textarea id="up-headers" name="headers" rows="2" autocomplete="off"></textarea>
          <label for="up-price">Default price (credits per call)</label>
          <input id="up-price" name="price" type="number" min="0" step="1" required value="${form.price ?? '1'}" />
          <div class="actions start"><button type="submit" class="primary">Add upstream</button></div>
        </form>
      </section>`;
    return adminPage(c, op, 'upstreams', body, flash ?? doneFlash(c, { added: 'Upstream added; running servers serve it within seconds.', priced: 'Price set.', removed: 'Upstream removed.' }));
  }

  app.get('/admin/upstreams', async (c) => {
    const op = await requireOperator(c, services);
    if (op instanceof Response) return op;
    return c.html(await upstreamsPage(c, op));
  });

  app.post('/admin/upstreams', (c) =>
    operatorPost(c, services, (op, flash, form) => upstreamsPage(c, op, flash, form), async (op, form) => {
      const { checkName, checkUrl, checkPrice, parseHeader } = upstreamInput;
      const input = await checked(() => {
        const name = checkName((form.name ?? '').trim());
        // A web session never makes the server run a program: stdio upstreams come from the CLI (shell access).
        if ((form.command ?? '').trim()) throw new FormError('Add a stdio upstream with `tollgate upstream add <name> --command …` on the server.');
        const url = (form.url ?? '').trim();
        if (!url) throw new FormError('Give the upstream\'s Streamable HTTP URL.');
        const target: UpstreamTarget = { transport: 'http', url: checkUrl(url), headers: Object.fromEntries(lines(form.headers).map(parseHeader)) };
        return { name, target, defaultPrice: checkPrice((form.price ?? '').trim()), timeoutMs: null };
      });
      await checked(() => gw.store.addUpstream(input, webAuditContext(c, services.config.trustedProxyHops, op.user)));
      return c.redirect('/admin/upstreams?done=added', 303);
    }),
  );

  app.post('/admin/upstreams/:name/price', (c) =>
    operatorPost(c, services, (op, flash) => upstreamsPage(c, op, flash), async (op, f) => {
      await checked(async () => gw.store.setToolPrice(upstreamInput.checkName(c.req.param('name')), (f.tool ?? '').slice(0, 128), upstreamInput.checkPrice((f.price ?? '').trim()), undefined, webAuditContext(c, services.config.trustedProxyHops, op.user)));
      return c.redirect('/admin/upstreams?done=priced', 303);
    }),
  );

  app.post('/admin/upstreams/:name/remove', (c) =>
    operatorPost(c, services, (op, flash) => upstreamsPage(c, op, flash), async (op) => {
      const name = await checked(() => upstreamInput.checkName(c.req.param('name')));
      if (!(await gw.store.removeUpstream(name, webAuditContext(c, services.config.trustedProxyHops, op.user)))) throw new FormError(`There is no upstream named ${name}.`);
      c.get('log').info({ upstream: name, by: op.user.id }, 'upstream removed by an operator');
      return c.redirect('/admin/upstreams?done=removed', 303);
    }),
  );
}
