import { openSyslog } from '../audit/feed.ts';
import { mailFailure, mailTransport, type MailSettings } from '../governance/mailer.ts';
import { SerialRounds } from '../domain/serial-rounds.ts';
import { dateOrNull, jsonColumn, type Db } from '../store/db.ts';
import {
  alertMail,
  webhookSignature,
  WEBHOOK_DELIVERY_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
  type Alert,
  type LogAlert,
} from './alerts.ts';

/**
 * Sends the alerts the findings queue (and the daily digest) put in the outbox (issue 20), outside every
 * request: each channel configured gets each alert once, within a time-out, retried with a growing pause
 * until it is delivered or `maxAttempts` failed; every attempt is recorded in alert_deliveries. A delivery is
 * claimed before it is sent (a lease on next_attempt_at), so two server processes never send one twice at once.
 * Each delivery (one alert on one channel) runs on its own, a few at once: a receiver that hangs until its
 * time-out holds up neither the alert's other channels nor any later alert (review of issue 20). A mail with
 * nobody to go to is given up at once as `no_recipients`, never counted as sent.
 */

export const ALERT_CHANNELS = ['syslog', 'webhook', 'email'] as const;
export type AlertChannel = (typeof ALERT_CHANNELS)[number];

export interface AlertSettings {
  /** A JSON POST signed with the secret (alerts.ts#webhookSignature); null: none. */
  readonly webhook: { readonly url: string; readonly secret: string } | null;
  /** udp://host:port or tcp://host:port (RFC 5424, MSGID `alert`); null: none. */
  readonly syslog: string | null;
  /** Mail high findings to compliance (audit.read holders with an address) when SMTP is configured. */
  readonly email: boolean;
  /** Longest one delivery may take. */
  readonly timeoutMs: number;
  /** Attempts per channel before giving up (recorded as given up). */
  readonly maxAttempts: number;
  /** How often the outbox is looked at besides the nudge after a finding (retries come due this way). */
  readonly pollMs: number;
  /** Deliveries under way at once in this process (default DEFAULT_ALERT_CONCURRENCY). */
  readonly concurrency?: number;
}

export interface AlertLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** The pause before attempt n+1: 30 s, 1, 2, 4 … minutes, at most an hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(3_600_000, 30_000 * 2 ** Math.max(0, attempts - 1));
}

const ROUND_LIMIT = 100;

/** At most `size` tasks run at once; the others wait in arrival order. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next === undefined) this.#free++;
      else next();
    }
  }
}

class AlertTimeout extends Error {
  readonly code = 'ETIMEDOUT';
}

async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  work.catch(() => undefined);
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new AlertTimeout('no answer in time')), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** A short reason for last_error and the log: a status or an error code, never a URL, an address or a reply's text. */
function failure(channel: AlertChannel, e: unknown): string {
  if (e instanceof NoRecipients) return NO_RECIPIENTS;
  if (channel === 'email') return mailFailure(e);
  if (e instanceof WebhookStatus) return `HTTP ${e.status}`;
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown; cause?: { code?: unknown } }) : {};
  const c = typeof code.code === 'string' ? code.code : typeof code.cause?.code === 'string' ? code.cause.code : e instanceof Error ? e.name : 'failed';
  return /^[A-Za-z_]{2,40}$/.test(c) ? c : 'failed';
}

/**
 * The reason recorded for a mail that had nobody to go to: no person whose account holds audit.read in force,
 * enabled, has an address. The delivery is given up at once — never counted as sent — and the server log says so.
 */
export const NO_RECIPIENTS = 'no_recipients: no compliance person (audit.read in force) has an e-mail address';

class NoRecipients extends Error {}

class WebhookStatus extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/** How one delivery ended: sent, not sent (to be retried or given up), or claimed first by another process or round. */
type DeliveryOutcome = 'delivered' | 'failed' | 'claimed_elsewhere';

/** A delivery found due in a round: the alert, and one of its channels. */
interface Due {
  readonly id: number;
  readonly alert: Alert;
  readonly channel: AlertChannel;
  /** Every channel of the alert: it is done when each of them is delivered or given up. */
  readonly channels: readonly AlertChannel[];
}

/** Deliveries under way at once in a process, by default: one receiver that hangs takes one of them, never all. */
export const DEFAULT_ALERT_CONCURRENCY = 4;

export class AlertDispatcher {
  readonly #db: Db;
  readonly #settings: AlertSettings;
  readonly #mail: MailSettings | null;
  readonly #clock: () => Date;
  readonly #publicUrl: string | null;
  readonly #log: AlertLog;
  readonly #transport: ReturnType<typeof mailTransport> | null;
  /** The rounds that find what is due, one at a time; the deliveries they start run beside them (#slots). */
  readonly #rounds: SerialRounds;
  readonly #slots: Slots;
  /** Deliveries started and not yet finished (`outbox:channel`): a round does not start one twice. */
  readonly #inFlight = new Map<string, Promise<DeliveryOutcome>>();
  #timer: NodeJS.Timeout | null = null;

  constructor(db: Db, settings: AlertSettings, opts: { mail: MailSettings | null; clock: () => Date; publicUrl: string | null; log: AlertLog }) {
    this.#db = db;
    this.#settings = settings;
    this.#mail = opts.mail;
    this.#clock = opts.clock;
    this.#publicUrl = opts.publicUrl;
    this.#log = opts.log;
    this.#transport = opts.mail === null ? null : mailTransport(opts.mail);
    this.#rounds = new SerialRounds((e) => this.#log.warn({ alert: 'round_failed', type: e instanceof Error ? e.name : typeof e }, 'alerts could not be sent'));
    this.#slots = new Slots(Math.max(1, settings.concurrency ?? DEFAULT_ALERT_CONCURRENCY));
  }

  /** The channels an alert of this kind goes to: findings everywhere configured, the digest by mail only. */
  channels(kind: Alert['type']): AlertChannel[] {
    const mail = this.#mail !== null && (kind === 'gridwall.digest' || this.#settings.email);
    if (kind === 'gridwall.digest') return mail ? ['email'] : [];
    return [
      ...(this.#settings.syslog === null ? [] : (['syslog'] as const)),
      ...(this.#settings.webhook === null ? [] : (['webhook'] as const)),
      ...(mail ? (['email'] as const) : []),
    ];
  }

  /**
   * Sends a log alert now to syslog and the webhook, once each within the time-out, without the database (it
   * may be what failed, or what was changed); a failure is logged, never thrown. Resolves when both are done.
   */
  async sendNow(alert: LogAlert): Promise<void> {
    const id = `log-${alert.event}-${alert.at}`;
    const channels: ('syslog' | 'webhook')[] = [
      ...(this.#settings.syslog === null ? [] : (['syslog'] as const)),
      ...(this.#settings.webhook === null ? [] : (['webhook'] as const)),
    ];
    await Promise.all(
      channels.map(async (channel) => {
        try {
          await within(this.#settings.timeoutMs, channel === 'syslog' ? this.#syslog(alert) : this.#webhook(id, alert));
        } catch (e) {
          this.#log.warn({ alert: 'not_sent', type: alert.type, event: alert.event, channel, reason: failure(channel, e) }, 'an alert could not be sent');
        }
      }),
    );
  }

  /** Looks at the outbox every pollMs (the timer does not keep the process alive). */
  start(): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => this.nudge(), this.#settings.pollMs);
    this.#timer.unref();
    this.nudge();
  }

  /**
   * A round soon, after the one finding what is due now; returns at once, never throws. The round starts what
   * it finds and does not wait for it: a delivery still under way (a receiver that hangs until its time-out)
   * keeps no later alert, and no other channel, waiting.
   */
  nudge(): void {
    this.#rounds.run(async () => {
      // The deliveries it started run on, tracked in #inFlight (idle() waits for them); they never reject.
      void Promise.all(await this.#round());
    });
  }

  /** Resolves when every round asked for so far, and every delivery they started, has finished. */
  async idle(): Promise<void> {
    do {
      await this.#rounds.idle();
      await Promise.all(this.#inFlight.values());
    } while (this.#inFlight.size > 0);
  }

  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    await this.#rounds.close();
    await this.idle();
    this.#transport?.close();
  }

  /**
   * One round, waited for to the end (tests, the command line): every alert not done, each due delivery
   * attempted. Returns how many of the deliveries it started were delivered and how many failed; one another
   * process claimed first is neither (that process sends it and counts it).
   */
  async runOnce(): Promise<{ delivered: number; failed: number }> {
    const results = await Promise.all(await this.#round());
    return { delivered: results.filter((r) => r === 'delivered').length, failed: results.filter((r) => r === 'failed').length };
  }

  /** Finds the deliveries due now and starts each (within the process's slots); returns them under way. */
  async #round(): Promise<Promise<DeliveryOutcome>[]> {
    // Only alerts with something due: retries waiting for their time never keep newer alerts from being picked up.
    const { rows } = await this.#db.query<{ id: string | number; payload: unknown }>(
      `SELECT o.id, o.payload FROM alert_outbox o
        WHERE o.done_at IS NULL
          AND (NOT EXISTS (SELECT 1 FROM alert_deliveries d WHERE d.outbox_id = o.id)
               OR EXISTS (SELECT 1 FROM alert_deliveries d WHERE d.outbox_id = o.id AND d.delivered_at IS NULL AND d.gave_up_at IS NULL AND d.next_attempt_at <= $1))
        ORDER BY o.id LIMIT ${ROUND_LIMIT}`,
      [this.#clock()],
    );
    const started: Promise<DeliveryOutcome>[] = [];
    for (const row of rows) {
      const id = Number(row.id);
      const alert = jsonColumn(row.payload) as Alert;
      const channels = this.channels(alert.type);
      if (channels.length === 0) {
        await this.#doneIfFinished(id, channels);
        continue;
      }
      await this.#db.query(
        `INSERT INTO alert_deliveries (outbox_id, channel, next_attempt_at)
         SELECT $1, c, $3 FROM unnest($2::text[]) AS c ON CONFLICT (outbox_id, channel) DO NOTHING`,
        [id, channels, this.#clock()],
      );
      const due = await this.#db.query<{ channel: AlertChannel }>(
        `SELECT channel FROM alert_deliveries
          WHERE outbox_id = $1 AND channel = ANY($2::text[]) AND delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= $3 ORDER BY channel`,
        [id, channels, this.#clock()],
      );
      for (const { channel } of due.rows) {
        const key = `${id}:${channel}`;
        if (this.#inFlight.has(key)) continue;
        const delivery = this.#slots.run(() => this.#deliver({ id, alert, channel, channels })).finally(() => this.#inFlight.delete(key));
        this.#inFlight.set(key, delivery);
        started.push(delivery);
      }
    }
    return started;
  }

  /**
   * One delivery: claimed (once, whichever process or round claims it first), sent within the time-out, its
   * outcome recorded; the alert marked done when it was its last channel. `claimed_elsewhere` when another
   * process or round claimed it between the round's look and this claim. Never throws: a failure of the store
   * is logged and leaves the claim to run out (the delivery is due again after it).
   */
  async #deliver(d: Due): Promise<DeliveryOutcome> {
    try {
      // The clock is read at the claim: a delivery that waited for a slot must not write a lease that has already run out.
      const now = this.#clock();
      // Claimed with a lease longer than an attempt can take: a process that died mid-send leaves it due again later.
      const lease = new Date(now.getTime() + 2 * this.#settings.timeoutMs + 60_000);
      const claimed = await this.#db.query<{ attempts: number }>(
        `UPDATE alert_deliveries SET attempts = attempts + 1, next_attempt_at = $4
          WHERE outbox_id = $1 AND channel = $2 AND delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= $3
        RETURNING attempts`,
        [d.id, d.channel, now, lease],
      );
      const attempts = claimed.rows[0]?.attempts;
      if (attempts === undefined) return 'claimed_elsewhere';
      let delivered = true;
      try {
        await within(this.#settings.timeoutMs, this.#send(d.channel, d.id, d.alert));
        await this.#db.query('UPDATE alert_deliveries SET delivered_at = $3, last_error = NULL WHERE outbox_id = $1 AND channel = $2', [
          d.id,
          d.channel,
          this.#clock(),
        ]);
      } catch (e) {
        delivered = false;
        const reason = failure(d.channel, e);
        // Nobody to send it to is no failure of a receiver: retrying would not help, and it must never count as sent.
        const giveUp = e instanceof NoRecipients || attempts >= this.#settings.maxAttempts;
        this.#log.warn({ alert: giveUp ? 'gave_up' : 'not_sent', outbox: d.id, channel: d.channel, attempts, reason }, 'an alert could not be sent');
        await this.#db.query(
          giveUp
            ? 'UPDATE alert_deliveries SET gave_up_at = $3, last_error = $4 WHERE outbox_id = $1 AND channel = $2'
            : 'UPDATE alert_deliveries SET next_attempt_at = $3, last_error = $4 WHERE outbox_id = $1 AND channel = $2',
          [d.id, d.channel, giveUp ? this.#clock() : new Date(this.#clock().getTime() + retryDelayMs(attempts)), reason],
        );
      }
      await this.#doneIfFinished(d.id, d.channels);
      return delivered ? 'delivered' : 'failed';
    } catch (e) {
      this.#log.warn({ alert: 'round_failed', outbox: d.id, channel: d.channel, type: e instanceof Error ? e.name : typeof e }, 'alerts could not be sent');
      return 'failed';
    }
  }

  /** Marks the alert done when every one of its channels is delivered or given up (none: at once). */
  async #doneIfFinished(id: number, channels: readonly AlertChannel[]): Promise<void> {
    await this.#db.query(
      `UPDATE alert_outbox o SET done_at = $2 WHERE o.id = $1 AND o.done_at IS NULL AND NOT EXISTS (
         SELECT 1 FROM unnest($3::text[]) AS c
          WHERE NOT EXISTS (SELECT 1 FROM alert_deliveries d WHERE d.outbox_id = o.id AND d.channel = c AND (d.delivered_at IS NOT NULL OR d.gave_up_at IS NOT NULL)))`,
      [id, this.#clock(), [...channels]],
    );
  }

  async #send(channel: AlertChannel, id: number, alert: Alert): Promise<void> {
    switch (channel) {
      case 'syslog':
        return this.#syslog(alert);
      case 'webhook':
        return this.#webhook(id, alert);
      case 'email':
        return this.#email(alert);
    }
  }

  async #syslog(alert: Alert | LogAlert): Promise<void> {
    const target = this.#settings.syslog;
    if (target === null) return;
    // Severity 1 (alert) for a high finding and the log's alarms, 6 (informational) for anything else.
    const sink = await openSyslog(target, { msgid: 'alert', severity: alert.type === 'gridwall.digest' ? 6 : 1 });
    try {
      await sink.send(JSON.stringify(alert));
    } finally {
      await sink.close();
    }
  }

  async #webhook(id: number | string, alert: Alert | LogAlert): Promise<void> {
    const hook = this.#settings.webhook;
    if (hook === null) return;
    // The delivery id travels inside the signed body too: a receiver that drops repeats by it cannot be fooled by
    // a replay with the header changed.
    const body = JSON.stringify({ ...alert, deliveryId: String(id) });
    const timestamp = String(Math.floor(this.#clock().getTime() / 1000));
    const res = await fetch(hook.url, {
      method: 'POST',
      redirect: 'error',
      signal: AbortSignal.timeout(this.#settings.timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'gridwall-alerts',
        [WEBHOOK_TIMESTAMP_HEADER]: timestamp,
        [WEBHOOK_SIGNATURE_HEADER]: webhookSignature(hook.secret, timestamp, body),
        [WEBHOOK_DELIVERY_HEADER]: String(id),
      },
      body,
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status > 299) throw new WebhookStatus(res.status);
  }

  async #email(alert: Alert): Promise<void> {
    if (this.#transport === null) return;
    const to = await complianceAddresses(this.#db, this.#clock());
    if (to.length === 0) throw new NoRecipients('no compliance address');
    const mail = alertMail(alert, this.#publicUrl);
    // One mail, every compliance address in Bcc: no reader learns who else got it.
    await this.#transport.sendMail({ bcc: to, subject: mail.subject, text: mail.text });
  }
}

/** Compliance: the addresses of people whose account holds audit.read in force and is not disabled. */
export async function complianceAddresses(db: Db, at: Date): Promise<string[]> {
  const { rows } = await db.query<{ email: string }>(
    `SELECT DISTINCT p.email FROM grants g
       JOIN accounts a ON a.user_id = g.user_id
       JOIN persons p ON p.id = a.person_id
      WHERE g.permission_id = 'audit.read' AND g.status = 'approved' AND g.decided_at <= $1
        AND least(g.expires_at, (SELECT min(c.ends_at) FROM recert_items i JOIN recert_campaigns c ON c.id = i.campaign_id
                                  WHERE i.grant_id = g.id AND i.decision IS NULL)) > $1
        AND (a.disabled_at IS NULL OR a.disabled_at > $1) AND p.email IS NOT NULL AND p.email <> ''
      ORDER BY p.email`,
    [at],
  );
  return rows.map((r) => r.email);
}

/** A delivery as recorded (tests, the console later). */
export interface Delivery {
  readonly outboxId: number;
  readonly channel: AlertChannel;
  readonly attempts: number;
  readonly deliveredAt: Date | null;
  readonly gaveUpAt: Date | null;
  readonly lastError: string | null;
}

export async function deliveriesOf(db: Db, outboxId: number): Promise<Delivery[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    'SELECT outbox_id, channel, attempts, delivered_at, gave_up_at, last_error FROM alert_deliveries WHERE outbox_id = $1 ORDER BY channel',
    [outboxId],
  );
  return rows.map((r) => ({
    outboxId: Number(r['outbox_id']),
    channel: r['channel'] as AlertChannel,
    attempts: Number(r['attempts']),
    deliveredAt: dateOrNull(r['delivered_at']),
    gaveUpAt: dateOrNull(r['gave_up_at']),
    lastError: (r['last_error'] as string | null) ?? null,
  }));
}
