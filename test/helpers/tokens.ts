// Access tokens minted directly through the OAuth module (a real grant, a real signed JWT), for black-box tests of
// the MCP endpoints that do not need to walk the whole authorization flow.
import type { Services } from '../../src/services.ts';
import { sharedResourceUrl, workspaceResourceUrl } from '../../src/oauth/resource.ts';
import { ADMIN_EMAIL } from './server.ts';

export interface MintedToken {
  accessToken: string;
  grantId: string;
  userId: string;
  workspaceId: string;
  resource: string;
}

export interface MintOptions {
  /** The workspace the grant is for (default `demo`). */
  workspace?: string;
  /** The user (default: the bootstrap owner). */
  email?: string;
  scopes?: string[];
  clientId?: string;
  /** `shared`: a token for the shared `/mcp` endpoint; otherwise for `/<workspace>/mcp` (default). */
  endpoint?: 'workspace' | 'shared';
  /** An explicit `aud`, e.g. another workspace's URL. */
  resource?: string;
}

export async function mintAccessToken(services: Services, options: MintOptions = {}): Promise<MintedToken> {
  const slug = options.workspace ?? 'demo';
  const ws = await services.accounts.workspaces.requireWorkspace(slug);
  const user = await services.accounts.users.findUserByEmail(options.email ?? ADMIN_EMAIL);
  if (!user) throw new Error(`no user ${options.email ?? ADMIN_EMAIL}`);
  const publicUrl = services.config.publicUrl;
  const resource = options.resource ?? (options.endpoint === 'shared' ? sharedResourceUrl(publicUrl) : workspaceResourceUrl(publicUrl, slug));
  const scopes = options.scopes ?? ['mcp:read', 'mcp:write'];
  const clientId = options.clientId ?? 'test-client';
  const grant = await services.oauth.grants.createGrant({ clientId, userId: user.id, workspaceId: ws.id, resource, scopes });
  const { accessToken } = await services.oauth.accessTokens.issueAccessToken({ grantId: grant.id, userId: user.id, clientId, workspaceId: ws.id, workspaceSlug: slug, resource, scopes });
  return { accessToken, grantId: grant.id, userId: user.id, workspaceId: ws.id, resource };
}
