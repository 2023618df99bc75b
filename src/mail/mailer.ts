// The one way Tollgate sends mail (invitations, password resets): SMTP through nodemailer when TOLLGATE_SMTP_URL is
// set, nothing otherwise. Sending never throws: a failure is logged (the error's code and the SMTP reply code only,
// never the URL, its password or the message) and the caller carries on.
import nodemailer from 'nodemailer';
import type { Config } from '../config/config.ts';
import { ConfigError } from '../config/config.ts';
import type { Logger } from '../util/logger.ts';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  /** True when an SMTP server is configured (mail is really sent). */
  readonly configured: boolean;
  /** Sends one message; true when the server accepted it. Never throws. */
  send(message: MailMessage): Promise<boolean>;
  close(): void;
}

export interface SmtpSettings {
  host: string;
  port: number;
  /** TLS from the first byte (smtps); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  auth?: { user: string; pass: string };
}

/** Parses `smtp://user:pass@host:port` / `smtps://…`; the error names the setting, never the value (it holds a password). */
export function parseSmtpUrl(raw: string): SmtpSettings {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new ConfigError('TOLLGATE_SMTP_URL', 'expected smtp://user:password@host:port or smtps://…');
  }
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') throw new ConfigError('TOLLGATE_SMTP_URL', 'the scheme must be smtp or smtps');
  if (!u.hostname) throw new ConfigError('TOLLGATE_SMTP_URL', 'a host is missing');
  const secure = u.protocol === 'smtps:';
  let user: string;
  let pass: string;
  try {
    user = decodeURIComponent(u.username);
    pass = decodeURIComponent(u.password);
  } catch {
    throw new ConfigError('TOLLGATE_SMTP_URL', 'the user or password is not properly percent-encoded');
  }
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port ? Number(u.port) : secure ? 465 : 587,
    secure,
    ...(user ? { auth: { user, pass } } : {}),
  };
}

/** `Tollgate <tollgate@host>` of the public URL, unless TOLLGATE_MAIL_FROM says otherwise. */
export function fromAddress(config: Pick<Config, 'mailFrom' | 'publicUrl'>): string {
  return config.mailFrom?.trim() || `Tollgate <tollgate@${new URL(config.publicUrl).hostname}>`;
}

const TIMEOUT_MS = 10_000;

export function createMailer(config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'publicUrl'>, logger: Logger): Mailer {
  if (!config.smtpUrl) {
    return { configured: false, send: async () => false, close() {} };
  }
  const smtp = parseSmtpUrl(config.smtpUrl);
  const from = fromAddress(config);
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    auth: smtp.auth,
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
    // nodemailer's own logger stays off: it would print the conversation, AUTH included.
    logger: false,
    debug: false,
  });
  return {
    configured: true,
    async send(message) {
      try {
        await transport.sendMail({ from, to: message.to, subject: message.subject, text: message.text });
        logger.info({ event: 'mail_sent', subject: message.subject }, 'mail sent');
        return true;
      } catch (err) {
        const e = err as { code?: string; responseCode?: number; command?: string };
        logger.warn({ event: 'mail_failed', code: e.code ?? 'error', smtp_reply: e.responseCode, smtp_command: e.command?.split(' ')[0] }, 'mail not sent');
        return false;
      }
    },
    close() {
      transport.close();
    },
  };
}
