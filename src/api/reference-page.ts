// The API reference page (/api/v1/docs): server-rendered from the same OpenAPI document, no script, no CDN.
import { PROBLEMS } from './problem.ts';

const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
const json = (v: unknown) => `<pre><code>${esc(JSON.stringify(v, null, 2))}</code></pre>`;

type Doc = { info: { title: string; version: string; description: string }; servers: { url: string }[]; tags: { name: string }[]; paths: Record<string, Record<string, any>>; components: { schemas: Record<string, unknown> } };

export function renderReferencePage(doc: Doc): string {
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
  const sections = doc.tags
    .map((tag) => {
      const inTag = ops.filter((o) => o.op.tags[0] === tag.name);
      return `<section><h2 id="tag-${esc(tag.name.replace(/\W+/g, '-').toLowerCase())}">${esc(tag.name)}</h2>${inTag
        .map(({ path, method, op }) => {
          const params = (op.parameters as { name: string; in: string; required: boolean; schema: unknown; description?: string }[])
            .map((p) => `<tr><td><code>${esc(p.name)}</code></td><td>${esc(p.in)}</td><td>${p.required ? 'yes' : ''}</td><td><code>${esc(JSON.stringify(p.schema))}</code>${p.description ? ` ${esc(p.description)}` : ''}</td></tr>`)
            .join('');
          const [status, ok] = Object.entries(op.responses as Record<string, { description: string; content?: Record<string, { schema: unknown }> }>)[0];
          const [mediaType, content] = Object.entries(ok.content ?? {})[0] ?? ['', { schema: {} }];
          return `<article id="op-${esc(op.operationId)}">
<h3><code>${esc(method.toUpperCase())} /api/v1${esc(path)}</code></h3>
<p>${esc(op.summary)}${op.description ? ` ${esc(op.description)}` : ''}</p>
<p>Operation <code>${esc(op.operationId)}</code> · needs a <strong>${esc(op['x-tollgate-access'])}</strong> key${op['x-tollgate-deployment-key'] ? ' for every workspace' : ''}</p>
${params ? `<table><thead><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th></tr></thead><tbody>${params}</tbody></table>` : ''}
${op.requestBody ? `<details><summary>Request body (application/json)</summary>${json(op.requestBody.content['application/json'].schema)}</details>` : ''}
<details><summary>${esc(status)} ${esc(ok.description)} (${esc(mediaType)})</summary>${json(content.schema)}</details>
</article>`;
        })
        .join('\n')}</section>`;
    })
    .join('\n');
  const schemas = Object.entries(doc.components.schemas)
    .map(([name, schema]) => `<article id="schema-${esc(name)}"><h3>${esc(name)}</h3>${json(schema)}</article>`)
    .join('\n');
  const problems = Object.entries(PROBLEMS)
    .map(([code, p]) => `<tr id="problem-${esc(code)}"><td><code>${esc(code)}</code></td><td>${p.status}</td><td>${esc(p.title)}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(doc.info.title)}</title><link rel="stylesheet" href="/static/tollgate.css"></head>
<body><main class="api-reference">
<h1>${esc(doc.info.title)} <small>${esc(doc.info.version)}</small></h1>
<p>${esc(doc.info.description)}</p>
<p>Base URL: <code>${esc(doc.servers[0].url)}</code> · machine-readable: <a href="/api/v1/openapi.json">openapi.json</a> (OpenAPI 3.1)</p>
<nav aria-label="Sections"><ul>${doc.tags.map((t) => `<li><a href="#tag-${esc(t.name.replace(/\W+/g, '-').toLowerCase())}">${esc(t.name)}</a></li>`).join('')}<li><a href="#problems">Problems</a></li><li><a href="#schemas">Schemas</a></li></ul></nav>
${sections}
<section><h2 id="problems">Problems (RFC 9457)</h2><p>Every error is <code>application/problem+json</code> with <code>type</code>, <code>title</code>, <code>status</code>, <code>detail</code>, <code>code</code> and <code>request_id</code>; invalid input adds <code>errors</code> (a JSON pointer and a reason each).</p>
<table><thead><tr><th>code</th><th>status</th><th>title</th></tr></thead><tbody>${problems}</tbody></table></section>
<section><h2 id="schemas">Schemas</h2>${schemas}</section>
</main></body></html>`;
}
