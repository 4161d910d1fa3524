import { createHmac, timingSafeEqual } from 'node:crypto';
import { severityRank, type FindingSource, type FindingStatus, type Severity } from '../domain/finding.ts';
import { findingRuleLabel } from '../domain/finding-rules.ts';
import type { Digest } from './digest.ts';

/**
 * What an alert says (issue 20: nobody has to open the page to learn of a high finding). An alert leaves
 * gridwall — to a SIEM, a webhook, a mailbox — so it carries no customer data: no names, phones or addresses,
 * and supply points only as a count. It is made from the finding's columns that hold none (rule, severity,
 * counts, instants, the staff subject's IDs); the summary and the evidence, which may quote a supply point or a
 * person's name, never go into it. The console (the findings queue) has the rest.
 */

/** Which findings alert: high ones, when new or when they become high. Updating an open one never alerts again. */
export const ALERT_SEVERITY: Severity = 'high';

/** Whether a finding that was `before` (null: new) and is now `after` is to be alerted. */
export function shouldAlert(before: Severity | null, after: Severity): boolean {
  const threshold = severityRank(ALERT_SEVERITY);
  return severityRank(after) >= threshold && (before === null || severityRank(before) < threshold);
}

/** The finding's columns an alert is made of (FindingRow has them). */
export interface AlertableFinding {
  readonly id: number;
  readonly rule: string;
  readonly severity: Severity;
  readonly source: FindingSource;
  readonly status: FindingStatus;
  readonly subjectKey: string | null;
  readonly subjectPersonId: string | null;
  readonly subjectUserId: string | null;
  readonly occurrences: number;
  readonly firstSeenAt: Date;
  readonly lastSeenAt: Date;
  readonly detectedAt: Date;
  readonly evidence: unknown;
  readonly earlierEvidence: readonly unknown[];
}

export interface FindingAlert {
  readonly type: 'gridwall.finding';
  readonly findingId: number;
  /** The rule's code, for machines (a SIEM's filter) … */
  readonly rule: string;
  /** … and the rule in words, for people (issue 20): domain/finding-rules.ts. */
  readonly ruleLabel: { readonly ja: string; readonly en: string };
  readonly severity: Severity;
  readonly source: FindingSource;
  readonly status: FindingStatus;
  /** The staff member, account or terminal it is about: IDs, never a name. */
  readonly subject: { readonly key: string | null; readonly personId: string | null; readonly userId: string | null };
  readonly occurrences: number;
  readonly firstSeenAt: string;
  readonly lastSeenAt: string;
  readonly detectedAt: string;
  /** Distinct supply points the evidence names: a count, never an ID. */
  readonly supplyPoints: number;
  readonly text: { readonly ja: string; readonly en: string };
}

/** The daily digest as it leaves gridwall: its figures (digest.ts), and the sentence in both languages. */
export interface DigestAlert extends Digest {
  readonly type: 'gridwall.digest';
  readonly text: { readonly ja: string; readonly en: string };
}

export type Alert = FindingAlert | DigestAlert;

/** The alert about a finding as it stands. */
export function findingAlert(f: AlertableFinding): FindingAlert {
  const who = f.subjectKey ?? '—';
  const label = findingRuleLabel(f.rule);
  return {
    type: 'gridwall.finding',
    findingId: f.id,
    rule: f.rule,
    ruleLabel: { ja: label.ja, en: label.en },
    severity: f.severity,
    source: f.source,
    status: f.status,
    subject: { key: f.subjectKey, personId: f.subjectPersonId, userId: f.subjectUserId },
    occurrences: f.occurrences,
    firstSeenAt: f.firstSeenAt.toISOString(),
    lastSeenAt: f.lastSeenAt.toISOString(),
    detectedAt: f.detectedAt.toISOString(),
    supplyPoints: supplyPointCount([f.evidence, ...f.earlierEvidence]),
    text: {
      ja: `重大な要確認事項 #${f.id}：${label.ja}（ルール ${f.rule}）、対象 ${who}、発生 ${f.occurrences} 回。内容はコンソールの「要確認事項」で確認してください。`,
      en: `High finding #${f.id}: ${label.en} (rule ${f.rule}), subject ${who}, raised ${f.occurrences} time(s). See the findings queue in the console.`,
    },
  };
}

/** The daily digest as mailed to compliance: counts only. */
export function digestAlert(d: Digest): DigestAlert {
  return {
    type: 'gridwall.digest',
    day: d.day,
    views: d.views,
    emergencyViews: d.emergencyViews,
    refused: d.refused,
    queued: d.queued,
    open: { high: d.open.high, medium: d.open.medium, low: d.open.low },
    text: {
      ja: `${d.day} の日次ダイジェスト：閲覧 ${d.views} 件（非常災害時 ${d.emergencyViews} 件）、拒否 ${d.refused} 件、新たな要確認事項 ${d.queued} 件。未解決：重大 ${d.open.high}・中 ${d.open.medium}・低 ${d.open.low}。`,
      en: `Daily digest for ${d.day}: ${d.views} views (${d.emergencyViews} in emergencies), ${d.refused} refused, ${d.queued} new findings. Open: ${d.open.high} high, ${d.open.medium} medium, ${d.open.low} low.`,
    },
  };
}

/**
 * The access log stopped the line, or its witness cannot be written (issue 15): sent at once to the channels
 * that need no database — syslog and the webhook — never through the outbox, because the database may be what
 * failed or what was changed. The reason names events and files, never customer data.
 */
export interface LogAlert {
  readonly type: 'gridwall.log';
  readonly event: 'halted' | 'witness_failed';
  readonly reason: string;
  readonly at: string;
  readonly text: { readonly ja: string; readonly en: string };
}

export function logAlert(event: LogAlert['event'], reason: string, at: Date): LogAlert {
  return {
    type: 'gridwall.log',
    event,
    reason,
    at: at.toISOString(),
    text:
      event === 'halted'
        ? {
            ja: `アクセスログの書き込みを停止しました。調査が終わるまで顧客情報は提供されません。理由: ${reason}`,
            en: `The access log writer stopped the line; no customer data is served until this is investigated: ${reason}`,
          }
        : { ja: `アクセスログの証人ファイルに封印を書けません: ${reason}`, en: `The access log's witness cannot be written: ${reason}` },
  };
}

/** Distinct supply points named anywhere in the evidence (keys such as supplyPointId, supplyPointIds), counted. */
export function supplyPointCount(evidence: readonly unknown[]): number {
  const ids = new Set<string>();
  const walk = (v: unknown, named: boolean): void => {
    if (Array.isArray(v)) for (const x of v) walk(x, named);
    else if (typeof v === 'string' && named) ids.add(v);
    else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) walk(x, named || /supply_?points?(_?ids?)?$/i.test(k));
  };
  walk(evidence, false);
  return ids.size;
}

/** The webhook's headers: when it was signed (Unix seconds) and the signature over that instant and the body. */
export const WEBHOOK_TIMESTAMP_HEADER = 'x-gridwall-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'x-gridwall-signature';
/** The outbox entry's id: the same alert retried carries the same one, so a receiver can drop a repeat. */
export const WEBHOOK_DELIVERY_HEADER = 'x-gridwall-delivery';

/**
 * The signature of a webhook body: `sha256=` and the hex HMAC-SHA256, keyed with the shared secret, of the
 * timestamp header's value, a full stop, and the body's bytes. Signing the timestamp with the body lets a
 * receiver refuse a replayed request: the timestamp cannot be refreshed without the secret.
 */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/** A receiver's check (docs/controls.md): the signature matches and the timestamp is within `toleranceSeconds` of `now`. */
export function verifyWebhook(secret: string, timestamp: string, signature: string, body: string, now: Date, toleranceSeconds = 300): boolean {
  const t = Number(timestamp);
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(now.getTime() / 1000 - t) > toleranceSeconds) return false;
  const want = Buffer.from(webhookSignature(secret, timestamp, body), 'utf8');
  const got = Buffer.from(signature, 'utf8');
  return want.length === got.length && timingSafeEqual(want, got);
}

/** The mail an alert is sent as: Japanese, then English; a link to the findings queue when the public URL is known. */
export function alertMail(a: Alert, publicUrl: string | null): { subject: string; text: string } {
  const base = publicUrl?.replace(/\/$/, '') ?? null;
  // From the code, not the stored alert: an alert queued before ruleLabel existed is named all the same.
  const rule = a.type === 'gridwall.finding' ? findingRuleLabel(a.rule) : null;
  const ja = [a.text.ja, ''];
  const en = [a.text.en, ''];
  if (a.type === 'gridwall.finding') {
    ja.push(
      `番号: ${a.findingId}`,
      `ルール: ${rule?.ja ?? a.rule}（${a.rule}）`,
      `重大度: 重大`,
      `対象: ${a.subject.key ?? '—'}`,
      `発生回数: ${a.occurrences}`,
      `初回: ${a.firstSeenAt}`,
      `最終: ${a.lastSeenAt}`,
      `関係する供給地点の数: ${a.supplyPoints}`,
    );
    en.push(
      `Finding: ${a.findingId}`,
      `Rule: ${rule?.en ?? a.rule} (${a.rule})`,
      `Severity: high`,
      `Subject: ${a.subject.key ?? '—'}`,
      `Occurrences: ${a.occurrences}`,
      `First seen: ${a.firstSeenAt}`,
      `Last seen: ${a.lastSeenAt}`,
      `Supply points involved: ${a.supplyPoints}`,
    );
  }
  if (base !== null) {
    ja.push(`コンソールで開く: ${base}/findings`);
    en.push(`Open it in the console: ${base}/findings`);
  }
  ja.push('', 'このメールは gridwall が自動で送信しています。お客さまの情報は含みません。内容はコンソールでご確認ください。');
  en.push('', 'This message was sent by gridwall automatically. It carries no customer data: see the console for the details.');
  const subject =
    a.type === 'gridwall.finding'
      ? `[gridwall] 重大な要確認事項 #${a.findingId}：${rule?.ja ?? a.rule} / High finding #${a.findingId}: ${rule?.en ?? a.rule}`
      : `[gridwall] 日次ダイジェスト ${a.day} / Daily digest ${a.day}`;
  return { subject, text: [...ja, '', '----', '', ...en, ''].join('\n') };
}
