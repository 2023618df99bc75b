import { CommandError, type Command } from './command.ts';
import { withServices } from './context.ts';
import { table } from './format.ts';
import { generatePassword } from '../accounts/password.ts';
import type { Role } from '../accounts/index.ts';
import { cliAuditContext } from './audit-context.ts';


export const accountCommands: Command[] = [
  {
    path: ['admin', 'user', 'create'],
    summary: 'Create a user; prints a generated password when none is given.',
    args: '<email> [--password <pw>] [--name <name>] [--admin]',
    positionals: 1,
    options: { password: { type: 'string' }, name: { type: 'string' }, admin: { type: 'boolean' } },
    async run({ values, positionals }, io) {
      const password = (values.password as string | undefined) ?? generatePassword();
      await withServices(io, async (s) => {
        const user = await s.accounts.users.createUser({ email: positionals[0], password, name: values.name as string | undefined, isAdmin: values.admin === true, emailVerified: true }, cliAuditContext('admin user create'));
        io.out(`Created user ${user.email}${user.isAdmin ? ' (operator)' : ''}.`);
        if (!values.password) io.out(`Password: ${password}  (shown once)`);
      });
    },
  },
  {
    path: ['admin', 'user', 'list'],
    summary: 'List users.',
    async run(_i, io) {
      await withServices(io, async (s) => {
        const users = await s.accounts.users.listUsers();
        io.out(table([['EMAIL', 'NAME', 'OPERATOR', 'CREATED'], ...users.map((u) => [u.email, u.name, u.isAdmin ? 'yes' : '', new Date(u.createdAt).toISOString()])]));
      });
    },
  },
  {
    path: ['admin', 'user', 'set-password'],
    summary: 'Set a user\'s password; prints a generated one when none is given.',
    args: '<email> [--password <pw>]',
    positionals: 1,
    options: { password: { type: 'string' } },
    async run({ values, positionals }, io) {
      const password = (values.password as string | undefined) ?? generatePassword();
      await withServices(io, async (s) => {
        const user = await s.accounts.users.findUserByEmail(positionals[0]);
        if (!user) throw new CommandError(`No user with the email ${positionals[0]}`);
        await s.accounts.users.setPassword(user.id, password, cliAuditContext('admin user set-password'));
        io.out(`Password of ${user.email} changed.`);
        if (!values.password) io.out(`Password: ${password}  (shown once)`);
      });
    },
  },
  {
    path: ['admin', 'workspace', 'create'],
    summary: 'Create a workspace, optionally with an owner.',
    args: '<slug> [--name <name>] [--owner <email>]',
    positionals: 1,
    options: { name: { type: 'string' }, owner: { type: 'string' } },
    async run({ values, positionals }, io) {
      await withServices(io, async (s) => {
        let ownerUserId: string | undefined;
        if (values.owner) {
          const owner = await s.accounts.users.findUserByEmail(values.owner as string);
          if (!owner) throw new CommandError(`No user with the email ${values.owner}`);
          ownerUserId = owner.id;
        }
        const ws = await s.createWorkspace({ slug: positionals[0], name: values.name as string | undefined, ownerUserId }, cliAuditContext('admin workspace create'));
        io.out(`Created workspace ${ws.slug}. MCP endpoint: ${s.config.publicUrl}/${ws.slug}/mcp`);
      });
    },
  },
  {
    path: ['admin', 'workspace', 'list'],
    summary: 'List workspaces.',
    async run(_i, io) {
      await withServices(io, async (s) => {
        const list = await s.accounts.workspaces.listWorkspaces();
        io.out(table([['SLUG', 'NAME', 'CREATED'], ...list.map((w) => [w.slug, w.name, new Date(w.createdAt).toISOString()])]));
      });
    },
  },
  {
    path: ['admin', 'member', 'add'],
    summary: 'Add a user to a workspace, or change their role.',
    args: '<workspace> <email> [--role owner|admin|member]',
    positionals: 2,
    options: { role: { type: 'string', default: 'member' } },
    async run({ values, positionals }, io) {
      await withServices(io, async (s) => {
        await s.accounts.workspaces.addMember(positionals[0], positionals[1], values.role as Role, cliAuditContext('admin member add'));
        io.out(`${positionals[1]} is now ${values.role} of ${positionals[0]}.`);
      });
    },
  },
  {
    path: ['admin', 'member', 'remove'],
    summary: 'Remove a user from a workspace.',
    args: '<workspace> <email>',
    positionals: 2,
    async run({ positionals }, io) {
      await withServices(io, async (s) => {
        await s.accounts.workspaces.removeMember(positionals[0], positionals[1], cliAuditContext('admin member remove'));
        io.out(`${positionals[1]} removed from ${positionals[0]}.`);
      });
    },
  },
];
