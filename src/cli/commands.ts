// Every `tollgate` command, in the order `--help` lists them. Modules add theirs here.
import type { Command } from './command.ts';
import { migrateCommand, serveCommand } from './serve.ts';
import { accountCommands } from './admin-accounts.ts';
import { oauthCommands } from './admin-oauth.ts';
import { creditCommands } from './admin-credits.ts';
import { mcpCommands } from './mcp.ts';
import { doctorCommand } from './doctor.ts';
import { backupCommand, restoreCommand } from './backup.ts';
import { invitationCommands } from './admin-invitations.ts';
import { ssoCommands } from './admin-sso.ts';
import { configCheckCommand } from './config-check.ts';
import { apiCommands } from './admin-api.ts';
import { webhookCommands } from './admin-webhooks.ts';
import { upstreamCommands } from './upstream.ts';

export const commands: Command[] = [serveCommand, migrateCommand, backupCommand, restoreCommand, ...accountCommands, ...invitationCommands, ...oauthCommands, ...creditCommands, ...webhookCommands, ...ssoCommands, ...apiCommands, ...mcpCommands, doctorCommand, configCheckCommand, ...upstreamCommands];
