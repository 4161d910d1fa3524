import type { Decision, MaskReason } from './decision.ts';
import type { FieldSpec } from './classification.ts';
import type { Side } from './organization.ts';

/** How a terminal is set up: for the network operator's systems, or for a retailer's. */
export const TERMINAL_SETTINGS = ['network', 'retail'] as const;
export type TerminalSetting = (typeof TERMINAL_SETTINGS)[number];
/** Which side's site a terminal stands at (physical inventory); `shared`: a site both sides use. */
export const SITE_SIDES = ['network', 'retail', 'shared'] as const;
export type SiteSide = (typeof SITE_SIDES)[number];

/** The words for them on the terminals page, the reconciliation and its spreadsheet (issue 20). */
export const TERMINAL_SETTING_LABELS: Readonly<Record<TerminalSetting, { readonly ja: string; readonly en: string }>> = {
  network: { ja: '送配電設定', en: 'Network-set' },
  retail: { ja: '小売設定', en: 'Retail-set' },
};
export const SITE_SIDE_LABELS: Readonly<Record<SiteSide, { readonly ja: string; readonly en: string }>> = {
  network: { ja: '送配電の拠点', en: 'Network site' },
  retail: { ja: '小売側の拠点', en: 'Retail site' },
  shared: { ja: '共用の拠点', en: 'Shared site' },
};

/** What the registry says about the terminal a session was opened from. */
export interface TerminalFacts {
  readonly setting: TerminalSetting;
  /** Side of the site where the terminal really stands (physical inventory). */
  readonly siteSide: SiteSide;
  readonly retiredAt: Date | null;
}

/**
 * How far a terminal lets its user go. Only `network_site` — a network-set terminal standing at a network
 * site — keeps network-only data reachable; every other standing narrows. No standing ever widens anything.
 */
export const TERMINAL_STANDINGS = ['network_site', 'retail_set', 'misplaced', 'retired', 'unregistered', 'none'] as const;
export type TerminalStanding = (typeof TERMINAL_STANDINGS)[number];

export function standingOf(terminalId: string | null, facts: TerminalFacts | null, at: Date): TerminalStanding {
  if (terminalId === null) return 'none';
  if (facts === null) return 'unregistered';
  if (facts.retiredAt !== null && facts.retiredAt.getTime() <= at.getTime()) return 'retired';
  if (facts.setting === 'retail') return 'retail_set';
  return opensNetworkOnly(facts) ? 'network_site' : 'misplaced';
}

/**
 * Whether a terminal in service so registered stands `network_site` — the one standing that keeps network-only
 * data reachable (networkOnlyGate): network-set at a network site.
 */
export function opensNetworkOnly(t: Pick<TerminalFacts, 'setting' | 'siteSide'>): boolean {
  return t.setting === 'network' && t.siteSide === 'network';
}

/**
 * Where a session's terminal came from. `device`: the browser holds a binding an access administrator issued
 * (identity/terminal-devices.ts); `proxy`: a trusted reverse proxy asserted it (e.g. a client certificate's
 * CN); `claimed`: the person typed or sent it — their own word, recorded as such (docs/identity.md).
 */
export const TERMINAL_SOURCES = ['device', 'proxy', 'claimed'] as const;
export type TerminalSource = (typeof TERMINAL_SOURCES)[number];

/** What a deployment does with a session from a terminal the registry does not know (or none at all). */
export const UNKNOWN_TERMINAL_POLICIES = ['refuse', 'limit'] as const;
export type UnknownTerminalPolicy = (typeof UNKNOWN_TERMINAL_POLICIES)[number];

/**
 * Network-set but not standing at a network site: the registry state of the Tohoku case (F1). Registering a
 * terminal so, or re-setting one into it, takes a second access administrator (needsSecondAdministrator).
 */
export function misplacedSetting(t: Pick<TerminalFacts, 'setting' | 'siteSide'>): boolean {
  return t.setting === 'network' && t.siteSide !== 'network';
}

/**
 * Whether saving `after` over the registered `before` (null: not registered) waits for a second access
 * administrator (identity/terminal-requests.ts). Any change that widens what someone can read does: one whose
 * result opens network-only data (network-set at a network site, `network_site`) where `before` did not — a
 * new terminal did not — and one into the misplaced state (F1), which the registry must not drift into
 * unnoticed. Everything else — edits that keep the terminal where it was (its office, say), and every change
 * that only narrows — takes one administrator and applies at once.
 */
export function needsSecondAdministrator(
  before: Pick<TerminalFacts, 'setting' | 'siteSide'> | null,
  after: Pick<TerminalFacts, 'setting' | 'siteSide'>,
): boolean {
  const widens = opensNetworkOnly(after) && (before === null || !opensNetworkOnly(before));
  const intoMisplaced = misplacedSetting(after) && (before === null || !misplacedSetting(before));
  return widens || intoMisplaced;
}

/**
 * What a deployment does with a login of a retail-side person (the affiliated retailer's or another
 * retailer's, contractors acting for one included) at a terminal standing at a network site: `refuse` it, or
 * `limit` it — let it through with what the person's own side allows (a terminal never widens anything) —
 * and raise a live finding either way (GRIDWALL_RETAIL_ON_NETWORK_TERMINAL).
 */
export const RETAIL_ON_NETWORK_POLICIES = ['refuse', 'limit'] as const;
export type RetailOnNetworkPolicy = (typeof RETAIL_ON_NETWORK_POLICIES)[number];

/**
 * A retail-side person at a terminal standing at a network site (a network call centre's PC, say): the people
 * of one side at the other side's desks is how the incidents began. Retired terminals are refused anyway.
 */
export function retailOnNetworkSite(personSide: Side | null, facts: TerminalFacts | null, at: Date): boolean {
  if (personSide === null || personSide === 'network' || facts === null) return false;
  if (facts.retiredAt !== null && facts.retiredAt.getTime() <= at.getTime()) return false;
  return facts.siteSide === 'network';
}

/** Whether a login from this standing is refused outright; null when it may proceed (perhaps narrowed). */
export function loginRefusal(standing: TerminalStanding, policy: UnknownTerminalPolicy): 'retired_terminal' | 'unknown_terminal' | null {
  if (standing === 'retired') return 'retired_terminal';
  if ((standing === 'unregistered' || standing === 'none') && policy === 'refuse') return 'unknown_terminal';
  return null;
}

/**
 * The gate on network-only data for one actor: null when open, otherwise the reason every network-only
 * field is masked. Needs both the `network.equipment` grant in force and a network terminal at a network site.
 */
export function networkOnlyGate(hasEquipmentGrant: boolean, standing: TerminalStanding): MaskReason | null {
  if (!hasEquipmentGrant) return 'permission_not_granted';
  if (standing !== 'network_site') return 'terminal_not_permitted';
  return null;
}

/**
 * Applies the person-level narrowing (grants, terminal) to the policy's decision for one field. It can only
 * turn an allow into a mask, never the reverse.
 */
export function narrow(decision: Decision, field: FieldSpec | null, networkOnly: MaskReason | null): Decision {
  if (decision.kind === 'mask' || field === null) return decision;
  if (field.class === 'network_only' && networkOnly !== null) return { kind: 'mask', reason: networkOnly };
  return decision;
}
