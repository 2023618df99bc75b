// Who must do what before a code is issued, decided here so the web pages only render the answer: when a sign-in or
// a fresh sign-in is needed, what prompt=none answers, and which workspaces a user may give a client. Pure functions:
// authorize.ts loads what they look at.
import type { Workspace } from '../accounts/index.ts';

/** What the sign-in state means for an authorization request, before any page is shown. */
export type SignInStep =
  /** prompt=none and a page would be needed: an error for the client's redirect URI. */
  | { kind: 'error'; error: 'login_required' | 'consent_required'; description: string }
  /** Nobody is signed in: sign in, then come back with the same request. */
  | { kind: 'sign-in' }
  /** Signed in, but the app asked for a fresh sign-in: come back with `prompt` set to `promptAfter` (without `login`). */
  | { kind: 'fresh-sign-in'; promptAfter: string[] }
  /** Signed in recently enough: on to consent. */
  | { kind: 'signed-in' };

export function signInStep(request: { prompt: readonly string[]; maxAge?: number }, session: { authTime: number } | undefined, now = Date.now()): SignInStep {
  // OpenID Connect Core §3.1.2.1: a max_age the sign-in is older than asks the user to sign in again (whole seconds,
  // so that max_age=0 is met by the sign-in it asks for).
  const tooOld = session !== undefined && request.maxAge !== undefined && Math.floor((now - session.authTime) / 1000) > request.maxAge;
  // OpenID Connect Core §3.1.2.1: prompt=none must not show any page; Tollgate always asks for consent.
  if (request.prompt.includes('none')) {
    return !session || tooOld ? { kind: 'error', error: 'login_required', description: 'The user is not signed in' } : { kind: 'error', error: 'consent_required', description: 'Consent is required' };
  }
  if (!session) return { kind: 'sign-in' };
  // prompt=login is dropped for the way back, else it would ask again, forever.
  if (request.prompt.includes('login') || tooOld) return { kind: 'fresh-sign-in', promptAfter: request.prompt.filter((v) => v !== 'login') };
  return { kind: 'signed-in' };
}

/** A client created on a workspace's dashboard may be granted that workspace only; any other client, any workspace. */
export const clientMayUseWorkspace = (ownerWorkspaceId: string | undefined, workspaceId: string | undefined): boolean =>
  ownerWorkspaceId === undefined || ownerWorkspaceId === workspaceId;

/** What the consent page offers: a fixed workspace, or workspaces to pick from; `blocked` when only Deny is possible. */
export interface ConsentOptions {
  workspace?: Workspace;
  choices?: Workspace[];
  blocked?: string;
  /** The workspace that created this client on its dashboard, if one did. */
  ownerWorkspace?: Workspace;
}

export type ConsentFacts =
  /** The request names a workspace (its endpoint): whether it exists and the user is a member. */
  | { kind: 'workspace'; slug: string; workspace: Workspace | undefined; isMember: boolean }
  /** The workspace is picked at consent (the shared endpoint): the user's workspaces. */
  | { kind: 'pick'; memberOf: Workspace[] };

export function consentOptions(clientName: string, facts: ConsentFacts, ownerWorkspace: Workspace | undefined): ConsentOptions {
  let workspace: Workspace | undefined;
  let choices: Workspace[] | undefined;
  let blocked: string | undefined;
  if (facts.kind === 'workspace') {
    workspace = facts.workspace;
    if (!workspace || !facts.isMember) blocked = `You are not a member of the workspace "${facts.slug}", so you cannot give this app access to it.`;
  } else {
    choices = facts.memberOf;
    if (choices.length === 0) blocked = 'You are not a member of any workspace yet, so there is nothing to give this app access to.';
  }
  if (ownerWorkspace && !blocked) {
    // A client created on a workspace's dashboard works for that workspace only (decideAuthorization enforces it too).
    const onlyOwn = `${clientName} was created for the workspace "${ownerWorkspace.name}" and can be given access to that workspace only.`;
    if (workspace && !clientMayUseWorkspace(ownerWorkspace.id, workspace.id)) blocked = onlyOwn;
    if (choices) {
      choices = choices.filter((w) => clientMayUseWorkspace(ownerWorkspace.id, w.id));
      if (choices.length === 0) blocked = `${onlyOwn} You are not a member of it.`;
    }
  }
  return { workspace, choices, blocked, ownerWorkspace };
}
