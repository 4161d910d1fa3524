import type { FastifyInstance } from 'fastify';
import { SUPPLY_POINT_FIELD_KEYS, SUPPLY_POINT_FIELDS } from '../domain/classification.ts';
import { MASK_REASON_LABELS, SHOWN_REASON_LABELS } from '../domain/decision.ts';
import { PRINCIPAL_CLASS_LABELS } from '../domain/principal.ts';
import { PURPOSE_LABELS } from '../domain/purpose.ts';
import { EQUALITY_MEASURE_LABELS } from '../domain/equal-treatment.ts';
import {
  allowedItems,
  CASE_TYPE_LABELS,
  CASE_TYPES,
  CONSENT_METHOD_LABELS,
  IDENTITY_CHECK_LABELS,
  INQUIRY_STATUS_LABELS,
  PROPER_FLOWS,
  SERVICE_LEVEL_HOURS,
} from '../domain/inquiry.ts';
import { ACCESS_REFUSAL_LABELS } from '../domain/access-refusals.ts';
import { FINDING_RULE_LABELS } from '../domain/finding-rules.ts';
import { GOVERNANCE_ACTION_LABELS, GOVERNANCE_OUTCOME_LABELS, GOVERNANCE_SUBJECT_LABELS } from '../domain/governance-actions.ts';
import { SIDE_LABELS } from '../domain/organization.ts';
import { REFUSAL_RULE_LABELS } from '../domain/refusal-labels.ts';
import { SITE_SIDE_LABELS, TERMINAL_SETTING_LABELS } from '../domain/terminal.ts';
import { DATA_ROUTES } from '../firewall/firewall.ts';
import * as c from '../contract/vocabulary.ts';
import { route, type RouteTypes } from '../contract/schema.ts';

const FIELD_CLASS_LABELS = {
  public: { ja: '公開', en: 'Public' },
  non_public: { ja: '非公開', en: 'Non-public' },
  network_only: { ja: '送配電専用', en: 'Network-only' },
} as const;

/**
 * The words of the domain in Japanese and English, from the one place each is defined (the manifest, the
 * reasons, the purposes), so the console never keeps a second copy that could drift. Nothing here is
 * customer data, so it is served without a session (the login screen needs the side labels).
 */
export function vocabulary(): c.Vocabulary {
  return {
    fields: SUPPLY_POINT_FIELD_KEYS.map((key): c.Vocabulary['fields'][number] => {
      const f = SUPPLY_POINT_FIELDS[key];
      return { key, class: f.class, ja: f.ja, en: f.en };
    }),
    fieldClasses: FIELD_CLASS_LABELS,
    reasons: { ...MASK_REASON_LABELS, ...SHOWN_REASON_LABELS },
    principalClasses: PRINCIPAL_CLASS_LABELS,
    purposes: PURPOSE_LABELS,
    sides: SIDE_LABELS,
    caseTypes: CASE_TYPE_LABELS,
    consentMethods: CONSENT_METHOD_LABELS,
    identityChecks: IDENTITY_CHECK_LABELS,
    inquiryStatuses: INQUIRY_STATUS_LABELS,
    equalityMeasures: EQUALITY_MEASURE_LABELS,
    findingRules: FINDING_RULE_LABELS,
    accessRefusals: ACCESS_REFUSAL_LABELS,
    routes: Object.fromEntries(DATA_ROUTES.map((r) => [r.route, { ja: r.ja, en: r.en }])),
    terminalSettings: TERMINAL_SETTING_LABELS,
    siteSides: SITE_SIDE_LABELS,
    governanceActions: GOVERNANCE_ACTION_LABELS,
    governanceSubjects: GOVERNANCE_SUBJECT_LABELS,
    governanceOutcomes: GOVERNANCE_OUTCOME_LABELS,
    refusalRules: REFUSAL_RULE_LABELS,
    serviceLevelHours: SERVICE_LEVEL_HOURS,
    caseAllowances: Object.fromEntries(CASE_TYPES.map((c) => [c, allowedItems(c, 'valid')])) as c.Vocabulary['caseAllowances'],
    properFlows: PROPER_FLOWS.map((f) => ({ ...f, purposes: [...f.purposes], reasons: [...f.reasons] })),
  };
}

export function registerVocabularyRoutes(app: FastifyInstance): void {
  const body = vocabulary();
  app.get<RouteTypes<typeof c.vocabulary>>(
    '/api/vocabulary',
    { schema: route(c.vocabulary, { tags: ['console'], summary: 'Labels of fields, reasons, purposes and sides in Japanese and English' }) },
    async () => body,
  );
}
