// (L) The limit: a bare node:http JSON-RPC server with an in-memory token check and no framework, no database.
import { sendJson, startBareServer } from '../lib/bare-server.ts';

startBareServer(sendJson);
