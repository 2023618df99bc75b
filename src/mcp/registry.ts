// The tool registry, built once at start from `services.tools`: tools indexed by name, argument validators compiled,
// and every `tools/list` page serialised in advance for each combination of scopes. A request then costs one map
// lookup, however many tools or workspaces there are.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { ToolDefinition, ToolScope } from '../tools/tool-types.ts';
import { META_SERVER_INFO, SERVER_INFO } from './protocol.ts';

export interface HeaderParam {
  /** The top-level argument the header mirrors. */
  property: string;
  /** Lower-cased `mcp-param-<name>` (SEP-2243 `x-mcp-header`). */
  header: string;
}

export interface RegisteredTool {
  readonly def: ToolDefinition;
  readonly validate: ValidateFunction;
  readonly headerParams: readonly HeaderParam[];
}

/** The wire form every revision accepts (clients ignore fields their revision does not know). */
export type WireTool = Pick<ToolDefinition, 'name' | 'title' | 'description' | 'inputSchema' | 'outputSchema'> & {
  annotations?: Record<string, unknown>;
  /** `tollgate/price` (credits per call) and `tollgate/scope` (the scope a call needs). */
  _meta?: Record<string, unknown>;
};

/** Namespaced `_meta` keys on each listed tool (MCP allows `_meta` on Tool; a `name/` prefix keeps them ours). */
export const META_TOOL_PRICE = 'tollgate/price';
export const META_TOOL_SCOPE = 'tollgate/scope';

export type ListPage = { ok: true; json: string } | { ok: false; reason: string };

export interface ToolRegistry {
  readonly size: number;
  get(name: string): RegisteredTool | undefined;
  /** A pre-serialised `tools/list` result for the token's scopes; `modern` adds the 2026-07-28 result fields. */
  listPage(scopes: readonly string[], cursor: string | undefined, modern: boolean): ListPage;
  /** The tools a token with these scopes may see and call, in registration order. */
  visible(scopes: readonly string[]): readonly WireTool[];
}

export interface RegistryOptions {
  /** Tools per `tools/list` page. */
  pageSize?: number;
  /** How long a 2026-07-28 client may cache a `tools/list` page (`ttlMs`). */
  listTtlMs?: number;
  /** Given, a bad definition is left out and reported here instead of failing the build (tools discovered at run time). */
  onInvalid?: (name: string, error: Error) => void;
}

// MCP 2025-11-25 tool names: 1–128 characters from A–Z a–z 0–9 _ - .
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const HEADER_TOKEN = /^[A-Za-z0-9-]{1,64}$/;
const LEGACY_DIALECT = /draft-0[4-7]/;

export function scopeVariant(scopes: readonly string[]): number {
  return (scopes.includes('mcp:read') ? 1 : 0) | (scopes.includes('mcp:write') ? 2 : 0);
}

const VARIANT_SCOPES: readonly (readonly ToolScope[])[] = [[], ['mcp:read'], ['mcp:write'], ['mcp:read', 'mcp:write']];

export function encodeCursor(page: number): string {
  return Buffer.from(`tools:${page}`).toString('base64url');
}

export function decodeCursor(cursor: string): number | undefined {
  if (cursor.length > 64) return undefined;
  const m = /^tools:(\d{1,6})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return m ? Number(m[1]) : undefined;
}

export function createArgumentValidator(): Ajv2020 {
  // strict: false — tool schemas may carry annotations such as `x-mcp-header`; unknown formats are not enforced.
  const ajv = new Ajv2020({ allErrors: true, strict: false, useDefaults: true, logger: false });
  ajv.addFormat('email', /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/);
  ajv.addFormat('date', (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s));
  ajv.addFormat('date-time', (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(s) && !Number.isNaN(Date.parse(s)));
  ajv.addFormat('uri', (s: string) => URL.canParse(s));
  return ajv;
}

function toWire(def: ToolDefinition): WireTool {
  const wire: WireTool = { name: def.name, description: def.description, inputSchema: def.inputSchema };
  if (def.title) wire.title = def.title;
  if (def.outputSchema) wire.outputSchema = def.outputSchema;
  if (def.annotations) wire.annotations = { ...def.annotations };
  wire._meta = { [META_TOOL_PRICE]: def.cost, [META_TOOL_SCOPE]: def.scope };
  return wire;
}

function headerParamsOf(def: ToolDefinition): HeaderParam[] {
  const props = (def.inputSchema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const out: HeaderParam[] = [];
  for (const [property, schema] of Object.entries(props)) {
    const name = schema?.['x-mcp-header'];
    if (name === undefined) continue;
    if (typeof name !== 'string' || !HEADER_TOKEN.test(name)) throw new Error(`Tool "${def.name}": x-mcp-header of "${property}" must be a header-name token`);
    out.push({ property, header: `mcp-param-${name.toLowerCase()}` });
  }
  return out;
}

function checkDefinition(def: ToolDefinition): void {
  if (!TOOL_NAME.test(def.name)) throw new Error(`Tool name "${String(def.name).slice(0, 140)}" is invalid: use 1–128 of A–Z a–z 0–9 _ - .`);
  if (def.inputSchema?.type !== 'object') throw new Error(`Tool "${def.name}": inputSchema must be an object schema (type: "object")`);
  if (def.scope !== 'mcp:read' && def.scope !== 'mcp:write') throw new Error(`Tool "${def.name}": scope must be mcp:read or mcp:write`);
  if (!Number.isSafeInteger(def.cost) || def.cost < 0) throw new Error(`Tool "${def.name}": cost must be a whole number of credits, 0 or more`);
  if (typeof def.handler !== 'function') throw new Error(`Tool "${def.name}": handler is missing`);
}

/** Throws (at start, naming the tool) on a duplicate name, a bad definition or a schema that does not compile. */
export function buildToolRegistry(tools: readonly ToolDefinition[], options: RegistryOptions = {}): ToolRegistry {
  const pageSize = options.pageSize ?? 100;
  const ttlMs = options.listTtlMs ?? 60_000;
  const ajv = createArgumentValidator();
  const byName = new Map<string, RegisteredTool>();
  const ordered: ToolDefinition[] = [];
  for (const def of tools) {
    try {
      register(def);
    } catch (err) {
      if (!options.onInvalid) throw err;
      options.onInvalid(String(def.name).slice(0, 140), err as Error);
    }
  }
  function register(def: ToolDefinition): void {
    checkDefinition(def);
    if (byName.has(def.name)) throw new Error(`Tool "${def.name}" is registered twice`);
    let schema = def.inputSchema;
    // Draft-07 and older schemas (common from schema generators) validate the same for what tools use.
    if (typeof schema.$schema === 'string' && LEGACY_DIALECT.test(schema.$schema)) {
      const { $schema: _dialect, ...rest } = schema;
      schema = rest;
    }
    let validate: ValidateFunction;
    try {
      validate = ajv.compile(schema);
    } catch (err) {
      throw new Error(`Tool "${def.name}": inputSchema does not compile: ${(err as Error).message}`, { cause: err });
    }
    byName.set(def.name, { def, validate, headerParams: headerParamsOf(def) });
    ordered.push(def);
  }

  const serverInfoMeta = JSON.stringify({ [META_SERVER_INFO]: SERVER_INFO });
  const variants = VARIANT_SCOPES.map((scopes) => {
    const visible = ordered.filter((t) => scopes.includes(t.scope)).map(toWire);
    const pages: { legacy: string; modern: string }[] = [];
    for (let start = 0, n = 0; start === 0 || start < visible.length; start += pageSize, n++) {
      const tools = JSON.stringify(visible.slice(start, start + pageSize));
      const next = start + pageSize < visible.length ? `,"nextCursor":${JSON.stringify(encodeCursor(n + 1))}` : '';
      pages.push({
        legacy: `{"tools":${tools}${next}}`,
        // MCP 2026-07-28: results carry resultType; list results are cacheable (SEP-2549), private because the list
        // depends on the token's scopes.
        modern: `{"resultType":"complete","tools":${tools}${next},"ttlMs":${ttlMs},"cacheScope":"private","_meta":${serverInfoMeta}}`,
      });
    }
    return { visible, pages };
  });

  return {
    size: byName.size,
    get: (name) => byName.get(name),
    visible: (scopes) => variants[scopeVariant(scopes)].visible,
    listPage(scopes, cursor, modern) {
      const { pages } = variants[scopeVariant(scopes)];
      const index = cursor === undefined ? 0 : decodeCursor(cursor);
      if (index === undefined || index >= pages.length) return { ok: false, reason: 'the cursor is not one this server issued' };
      return { ok: true, json: modern ? pages[index].modern : pages[index].legacy };
    },
  };
}
