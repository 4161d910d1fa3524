import { createTransport } from 'nodemailer';
import { CASE_TYPE_LABELS, INQUIRY_STATUS_LABELS, type CaseType, type InquiryStatus } from '../domain/inquiry.ts';
import { SerialRounds } from '../domain/serial-rounds.ts';
import type { Db } from '../store/db.ts';

/**
 * Notifications mailed through SMTP (issue 18), when GRIDWALL_SMTP_URL is set: after a change has committed
 * its in-app notifications, each one not mailed yet whose person has an address (persons.email) goes out as one
 * mail — Japanese, then English — and is marked mailed_at, or mail_error with a short reason. A mail says
 * only what the notification says: the inquiry's id, its case type and status, and a link to the console.
 * Never customer data, which is read through the firewall, logged, in the console. Sending happens after the
 * answer, one mail at a time, each within the time-out; a failure never reaches the request that caused it.
 */
export interface MailSettings {
  /** smtp://host:port or smtps://user:password@host:port (a secret: never logged, never quoted). */
  readonly url: string;
  /** The From: an address, or a name and an address. */
  readonly from: string;
  /** Longest one mail may take, connecting included. */
  readonly timeoutMs: number;
}

/** Where failures are said: the server log, at warn, without an address or a mail's content. */
export interface MailLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** The claim a notification carries in mail_error while it is being sent (a process that died mid-send leaves it). */
export const MAIL_SENDING = 'sending';

/** Most notifications one hook mails; a person given an address late is not mailed a backlog. */
const MAX_PER_ROUND = 50;

/** A notification older than this when it comes to be mailed stays in the console only. */
const MAIL_WITHIN_MS = 86_400_000;

/** Longest closing waits for a mail under way: the log writer closes after the app, within systemd's stop time-out. */
const CLOSE_WAIT_MS = 5_000;

/** The console's page for an inquiry (web/src). */
export const inquiryPagePath = (id: string): string => `/inquiries/${encodeURIComponent(id)}`;

/** A notification as a mail is made of it. */
export interface MailedNotification {
  readonly kind: string;
  readonly subjectType: string;
  readonly subjectId: string;
  readonly text: { readonly ja: string; readonly en: string };
  /** The inquiry it is about (subject_type 'inquiry'), or null. */
  readonly inquiry: { readonly caseType: CaseType; readonly status: InquiryStatus } | null;
}

/** Subject and body: Japanese first, English below; the link only when the server's public URL is known. */
export function notificationMail(n: MailedNotification, publicUrl: string | null): { subject: string; text: string } {
  const link = publicUrl === null || n.subjectType !== 'inquiry' ? null : `${publicUrl.replace(/\/$/, '')}${inquiryPagePath(n.subjectId)}`;
  const ja = [n.text.ja, ''];
  const en = [n.text.en, ''];
  if (n.inquiry !== null) {
    ja.push(`照会番号: ${n.subjectId}`, `案件種別: ${CASE_TYPE_LABELS[n.inquiry.caseType].ja}`, `状態: ${INQUIRY_STATUS_LABELS[n.inquiry.status].ja}`);
    en.push(`Inquiry: ${n.subjectId}`, `Case type: ${CASE_TYPE_LABELS[n.inquiry.caseType].en}`, `Status: ${INQUIRY_STATUS_LABELS[n.inquiry.status].en}`);
  }
  if (link !== null) {
    ja.push(`コンソールで開く: ${link}`);
    en.push(`Open it in the console: ${link}`);
  }
  ja.push('', 'このメールは gridwall が自動で送信しています。お客さまの情報は含みません。内容はコンソールでご確認ください。');
  en.push('', 'This message was sent by gridwall automatically. It carries no customer data: see the console for the details.');
  // The subject without the Japanese text's closing （case・status）: the body says them.
  const subject = `[gridwall] ${n.text.ja.replace(/（.*）$/, '')} / ${n.text.en}`;
  return { subject, text: [...ja, '', '----', '', ...en, ''].join('\n') };
}

/** nodemailer's error codes as stored in mail_error: a reason an operator can act on, never the server's words (they may quote an address). */
const REASONS: Readonly<Record<string, string>> = {
  ECONNECTION: 'could not connect to the SMTP server',
  ESOCKET: 'could not connect to the SMTP server',
  EDNS: "the SMTP server's name did not resolve",
  ETIMEDOUT: 'the SMTP server did not answer in time',
  ETLS: 'TLS with the SMTP server failed',
  EAUTH: 'the SMTP server refused the credentials',
  ENOAUTH: 'the SMTP server asks for credentials',
  EENVELOPE: 'the SMTP server refused the sender or the recipient',
  EMESSAGE: 'the SMTP server refused the message',
  EPROTOCOL: 'the SMTP server answered unexpectedly',
};

/** A short reason for mail_error and the log: the error's code and the SMTP reply code, nothing the server said. */
export function mailFailure(e: unknown): string {
  const { code, responseCode } = (typeof e === 'object' && e !== null ? e : {}) as { code?: unknown; responseCode?: unknown };
  const c = typeof code === 'string' && /^E[A-Z]{2,20}$/.test(code) ? code : 'EFAILED';
  const reply = typeof responseCode === 'number' ? ` (${responseCode})` : '';
  return `${c}${reply}: ${REASONS[c] ?? 'the mail could not be sent'}`;
}

/** A failed round (the store, most likely) as logged: the error's class and code, not its message (it may quote a value). */
function failureFields(e: unknown): { type: string; code?: string } {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return { type: e instanceof Error ? e.name : typeof e, ...(typeof code === 'string' ? { code } : {}) };
}

class MailTimeout extends Error {
  readonly code = 'ETIMEDOUT';
}

const STATUS_OF_KIND: Readonly<Record<string, InquiryStatus>> = {
  'inquiry.answered': 'answered',
  'inquiry.asked_back': 'asked_back',
  'inquiry.refused': 'refused',
};

/** The SMTP transport every mail of gridwall's goes through (notifications, alerts), with its time-outs. */
export function mailTransport(settings: MailSettings): ReturnType<typeof createTransport> {
  const t = settings.timeoutMs;
  // A connection per mail (no pool): a few mails an hour. Messages are text only: no file or URL is ever read into one.
  return createTransport(
    { url: settings.url, connectionTimeout: t, greetingTimeout: t, socketTimeout: t, dnsTimeout: t, disableFileAccess: true, disableUrlAccess: true },
    { from: settings.from },
  );
}

export class NotificationMailer {
  readonly #db: Db;
  readonly #settings: MailSettings;
  readonly #clock: () => Date;
  readonly #publicUrl: string | null;
  readonly #log: MailLog;
  readonly #transport: ReturnType<typeof createTransport>;
  /** One round at a time in this process: the rounds queue behind each other. */
  readonly #rounds: SerialRounds;

  constructor(db: Db, settings: MailSettings, opts: { clock: () => Date; publicUrl: string | null; log: MailLog }) {
    this.#db = db;
    this.#settings = settings;
    this.#clock = opts.clock;
    this.#publicUrl = opts.publicUrl;
    this.#log = opts.log;
    this.#transport = mailTransport(settings);
    this.#rounds = new SerialRounds((e) => this.#log.warn({ mail: 'round_failed', error: failureFields(e) }, 'notifications could not be mailed'));
  }

  /** Inquiries' `notified` hook: mails these persons' new notifications after the answer; returns at once, never throws. */
  notified(personIds: readonly string[]): void {
    const ids = [...new Set(personIds)];
    this.#rounds.run(() => this.#round(ids));
  }

  /** Resolves when every round asked for so far has finished (closing; tests). */
  idle(): Promise<void> {
    return this.#rounds.idle();
  }

  /**
   * Starts no further mail and waits a little for the one under way; what was claimed and not sent is left
   * for the person's next notification (within the day).
   */
  async close(): Promise<void> {
    await this.#rounds.close(CLOSE_WAIT_MS);
    this.#transport.close();
  }

  async #round(personIds: readonly string[]): Promise<void> {
    if (personIds.length === 0) return;
    const now = this.#clock();
    // Claimed before sending (a conditional update), so that two server processes never mail one notification twice.
    const { rows } = await this.#db.query<Record<string, unknown>>(
      `UPDATE notifications n SET mail_error = '${MAIL_SENDING}'
         FROM persons p
        WHERE p.id = n.person_id AND n.mailed_at IS NULL AND n.mail_error IS NULL
          AND n.id IN (SELECT c.id FROM notifications c JOIN persons cp ON cp.id = c.person_id
                        WHERE c.person_id = ANY($1::text[]) AND c.mailed_at IS NULL AND c.mail_error IS NULL AND cp.email IS NOT NULL AND c.at > $2
                        ORDER BY c.id LIMIT ${MAX_PER_ROUND})
       RETURNING n.id, n.kind, n.subject_type, n.subject_id, n.text_ja, n.text_en, p.email`,
      [[...personIds], new Date(now.getTime() - MAIL_WITHIN_MS)],
    );
    if (rows.length === 0) return;
    const inquiryIds = rows.filter((r) => r['subject_type'] === 'inquiry').map((r) => String(r['subject_id']));
    const inquiries = new Map<string, { caseType: CaseType; status: InquiryStatus }>();
    if (inquiryIds.length > 0) {
      const found = await this.#db.query<{ id: string; case_type: CaseType; status: InquiryStatus }>(
        'SELECT id, case_type, status FROM inquiries WHERE id = ANY($1::text[])',
        [inquiryIds],
      );
      for (const r of found.rows) inquiries.set(r.id, { caseType: r.case_type, status: r.status });
    }
    const claimed = rows.sort((a, b) => Number(a['id']) - Number(b['id']));
    for (const [i, r] of claimed.entries()) {
      if (this.#rounds.closing) {
        const left = claimed.slice(i).map((c) => Number(c['id']));
        await this.#db.query(`UPDATE notifications SET mail_error = NULL WHERE id = ANY($1::bigint[]) AND mail_error = '${MAIL_SENDING}'`, [left]);
        return;
      }
      const id = Number(r['id']);
      const kind = String(r['kind']);
      const inquiry = inquiries.get(String(r['subject_id']));
      const mail = notificationMail(
        {
          kind,
          subjectType: String(r['subject_type']),
          subjectId: String(r['subject_id']),
          text: { ja: String(r['text_ja']), en: String(r['text_en']) },
          inquiry: inquiry === undefined ? null : { caseType: inquiry.caseType, status: STATUS_OF_KIND[kind] ?? inquiry.status },
        },
        this.#publicUrl,
      );
      let failure: string | null = null;
      try {
        await this.#send(String(r['email']), mail);
      } catch (e) {
        failure = mailFailure(e);
        this.#log.warn({ mail: 'not_sent', notification: id, kind, reason: failure }, 'a notification could not be mailed');
      }
      await this.#db.query(
        failure === null
          ? 'UPDATE notifications SET mailed_at = $2, mail_error = NULL WHERE id = $1'
          : 'UPDATE notifications SET mail_error = $2 WHERE id = $1',
        [id, failure ?? this.#clock()],
      );
    }
  }

  /** One mail, within the time-out whatever the server does (nodemailer's own time-outs are per step). */
  async #send(to: string, mail: { subject: string; text: string }): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new MailTimeout('no answer in time')), this.#settings.timeoutMs);
    });
    const sending = this.#transport.sendMail({ to, subject: mail.subject, text: mail.text });
    // A send that outlives its time-out ends on nodemailer's own time-outs; it is recorded as timed out already.
    sending.catch(() => undefined);
    try {
      await Promise.race([sending, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
