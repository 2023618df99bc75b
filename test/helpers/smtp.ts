// A real SMTP server (smtp-server from npm) on a free loopback port, requiring AUTH, that keeps every message it
// receives so a test can read the link out of it.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  /** The decoded text body. */
  text: string;
  raw: string;
}

export interface TestSmtp {
  /** `smtp://user:password@127.0.0.1:<port>` for TOLLGATE_SMTP_URL. */
  readonly url: string;
  readonly user: string;
  readonly password: string;
  readonly messages: ReceivedMail[];
  /** Failed AUTH attempts seen. */
  readonly authFailures: number;
  /** Makes the server take `ms` before it accepts each message (a slow mail server). */
  setDelay(ms: number): void;
  /** Waits (polling, up to `timeoutMs`) for a message matching `match`. */
  waitFor(match: (m: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

function decodeBody(headers: string, body: string): string {
  const cte = /^content-transfer-encoding:\s*(\S+)/im.exec(headers)?.[1]?.toLowerCase();
  if (cte === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  if (cte === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

function decodeHeader(value: string): string {
  return value.replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_m, enc: string, text: string) =>
    enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
  );
}

export function parseMail(raw: string, from: string, to: string[]): ReceivedMail {
  const split = raw.search(/\r?\n\r?\n/);
  const headers = raw.slice(0, split).replace(/\r?\n[ \t]+/g, ' ');
  const body = raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const subject = decodeHeader(/^subject:\s*(.*)$/im.exec(headers)?.[1]?.trim() ?? '');
  return { from, to, subject, text: decodeBody(headers, body), raw };
}

export async function startTestSmtp(options: { user?: string; password?: string } = {}): Promise<TestSmtp> {
  const user = options.user ?? 'mailer';
  const password = options.password ?? 'smtp pass: s3cret/+';
  const messages: ReceivedMail[] = [];
  let authFailures = 0;
  let delayMs = 0;
  const server = new SMTPServer({
    // No STARTTLS (no certificate here): plain AUTH on loopback, as a local relay would take it.
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === user && auth.password === password) return cb(null, { user });
      authFailures++;
      cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const rcpt = session.envelope.rcptTo.map((r) => r.address);
        const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        setTimeout(() => {
          messages.push(parseMail(Buffer.concat(chunks).toString('utf8'), mailFrom, rcpt));
          cb();
        }, delayMs);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    user,
    password,
    messages,
    setDelay(ms) {
      delayMs = ms;
    },
    get authFailures() {
      return authFailures;
    },
    async waitFor(match, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching mail within ${timeoutMs} ms (received: ${messages.map((m) => `${m.to.join(',')}: ${m.subject}`).join('; ') || 'none'})`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The first `http(s)://…` URL in a text whose path starts with `pathPrefix`. */
export function linkIn(text: string, pathPrefix: string): URL {
  for (const m of text.matchAll(/https?:\/\/[^\s<>"]+/g)) {
    let u: URL;
    try {
      u = new URL(m[0].replace(/[.,;:)]+$/, ''));
    } catch {
      continue;
    }
    if (u.pathname.startsWith(pathPrefix)) return u;
  }
  throw new Error(`no ${pathPrefix} link in: ${text}`);
}
