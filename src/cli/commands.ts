// Every `tollgate` command, in the order `--help` lists them. Modules add theirs here.
import type { Command } from './command.ts';
import { migrateCommand, serveCommand } from './serve.ts';
import { accountCommands } from './admin-accounts.ts';

export const commands: Command[] = [serveCommand, migrateCommand, ...accountCommands];
