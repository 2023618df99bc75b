// Workspace lookups by slug for the MCP routes: a bounded in-process cache with a short life, so a request costs a
// map lookup rather than a query. Safe to lose; never authoritative (tokens are checked against their grant anyway).
import { isWorkspaceSlug, type Workspace } from '../accounts/index.ts';

export interface WorkspaceCacheOptions {
  maxEntries?: number;
  /** How long a found workspace is remembered. */
  ttlMs?: number;
  /** How long "no such workspace" is remembered (short: another process may create it). */
  missTtlMs?: number;
}

export function workspaceCache(load: (slug: string) => Promise<Workspace | undefined>, options: WorkspaceCacheOptions = {}) {
  const max = options.maxEntries ?? 50_000;
  const ttl = options.ttlMs ?? 30_000;
  const missTtl = options.missTtlMs ?? 2_000;
  const entries = new Map<string, { ws: Workspace | undefined; until: number }>();

  return {
    async get(slug: string): Promise<Workspace | undefined> {
      if (!isWorkspaceSlug(slug)) return undefined;
      const now = Date.now();
      const hit = entries.get(slug);
      if (hit && hit.until > now) return hit.ws;
      const ws = await load(slug);
      if (entries.size >= max) entries.delete(entries.keys().next().value as string);
      entries.set(slug, { ws, until: now + (ws ? ttl : missTtl) });
      return ws;
    },
    /** Called when this process creates (or changes) a workspace. */
    forget(slug: string): void {
      entries.delete(slug);
    },
  };
}

export type WorkspaceCache = ReturnType<typeof workspaceCache>;
