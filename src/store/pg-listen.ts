// PostgreSQL LISTEN on one dedicated connection (never one of the pool's: a pooled connection is shared, and a
// LISTEN on it would hear for whoever holds it next). The connection comes back by itself, with backoff, when it is
// lost; `onState` tells the listener when it hears (true) and when notifications may be missed (false).
import type pg from 'pg';

export interface Listening {
  /** Stops listening and closes the connection. */
  close(): Promise<void>;
}

export interface ListenOptions {
  /** `application_name` of the connection, so that an operator (or a test) can find it in pg_stat_activity. */
  applicationName?: string;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

export function pgListen(
  url: string,
  channel: string,
  onMessage: (payload: string) => void,
  onState: (up: boolean) => void,
  options: ListenOptions = {},
): Listening {
  if (!CHANNEL.test(channel)) throw new Error(`invalid channel name: ${channel}`);
  const minBackoff = options.minBackoffMs ?? 50;
  const maxBackoff = options.maxBackoffMs ?? 5000;
  let backoff = minBackoff;
  let closed = false;
  let up = false;
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;

  const setUp = (value: boolean) => {
    if (up === value) return;
    up = value;
    onState(value);
  };

  const schedule = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, backoff);
    timer.unref();
    backoff = Math.min(maxBackoff, backoff * 2);
  };

  async function connect(): Promise<void> {
    if (closed) return;
    // Loaded with the first PostgreSQL connection (a SQLite deployment never loads the driver).
    const { default: driver } = await import('pg');
    if (closed) return;
    const c = new driver.Client({ connectionString: url, application_name: options.applicationName, keepAlive: true, connectionTimeoutMillis: 5000 });
    client = c;
    let lost = false;
    const onLost = () => {
      if (lost) return;
      lost = true;
      c.removeAllListeners('notification');
      if (client === c) client = undefined;
      setUp(false);
      c.end().catch(() => {});
      schedule();
    };
    c.on('error', onLost);
    c.on('end', onLost);
    c.on('notification', (n) => {
      if (n.channel === channel) onMessage(n.payload ?? '');
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
    } catch {
      onLost();
      return;
    }
    if (closed || lost) return;
    backoff = minBackoff;
    setUp(true);
  }

  void connect();
  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      const c = client;
      client = undefined;
      setUp(false);
      if (c) {
        c.removeAllListeners('notification');
        await c.end().catch(() => {});
      }
    },
  };
}
