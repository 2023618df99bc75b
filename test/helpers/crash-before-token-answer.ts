// Test-only fault injection, loaded into a `tollgate serve` child process with `NODE_OPTIONS=--import=<this file>`
// by test/oauth-refresh-crash.test.ts (nothing in Tollgate itself reads it): a request carrying
// `x-test-crash: before-answer` kills the process with SIGKILL the moment its answer's status line is about to be
// written — after the work behind the answer (a refresh rotation) has committed, before a byte of the answer leaves.
// Every answer goes through writeHead (an implicit header is written by calling it), on both HTTP layers.
import { ServerResponse } from 'node:http';

const writeHead = ServerResponse.prototype.writeHead as (this: ServerResponse, ...args: unknown[]) => ServerResponse;
ServerResponse.prototype.writeHead = function (this: ServerResponse, ...args: unknown[]): ServerResponse {
  if (this.req?.headers['x-test-crash'] === 'before-answer') process.kill(process.pid, 'SIGKILL');
  return writeHead.apply(this, args);
} as typeof ServerResponse.prototype.writeHead;
