import type { Accounts, Workspace } from './index.ts';
import { AccountsError } from './errors.ts';
import { generatePassword } from './password.ts';

export interface BootstrapResult {
  /** True on the start that created the owner. */
  created: boolean;
  ownerEmail: string;
  /** Set only when Tollgate generated the password on this start: print it once, never log it. */
  generatedPassword?: string;
  demoWorkspace?: Workspace;
}

export interface BootstrapOptions {
  adminEmail: string;
  adminPassword?: string;
  seedDemo: boolean;
  /** Creates a workspace with every module's set-up (defaults to the bare accounts call). */
  createWorkspace?: (input: { slug: string; name?: string; ownerUserId?: string }) => Promise<Workspace>;
  /** Called once for a freshly created demo workspace (other modules add their sample data). */
  seedWorkspace?: (workspace: Workspace) => Promise<void>;
}

export const DEMO_SLUG = 'demo';

/**
 * On the first start (no users yet) creates the owner and, unless disabled, the `demo` workspace.
 * Later starts change nothing. Two processes starting at once: one creates, the other finds the owner.
 */
export async function bootstrap(accounts: Accounts, options: BootstrapOptions): Promise<BootstrapResult> {
  if ((await accounts.users.countUsers()) > 0) {
    return { created: false, ownerEmail: (await accounts.users.listUsers()).find((u) => u.isAdmin)?.email ?? options.adminEmail };
  }
  const generatedPassword = options.adminPassword ? undefined : generatePassword();
  let owner;
  try {
    owner = await accounts.users.createUser({ email: options.adminEmail, password: options.adminPassword ?? generatedPassword, name: 'Owner', isAdmin: true, emailVerified: true });
  } catch (err) {
    if (err instanceof AccountsError && err.code === 'email_taken') return { created: false, ownerEmail: options.adminEmail };
    throw err;
  }
  let demoWorkspace: Workspace | undefined;
  if (options.seedDemo) {
    demoWorkspace = await (options.createWorkspace ?? accounts.workspaces.createWorkspace)({ slug: DEMO_SLUG, name: 'Demo workspace', ownerUserId: owner.id });
    await options.seedWorkspace?.(demoWorkspace);
  }
  return { created: true, ownerEmail: owner.email, generatedPassword, demoWorkspace };
}
