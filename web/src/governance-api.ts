import { call, type AuthMethods, type Opened } from './api.ts';
import type * as gov from '../../src/contract/governance.ts';
import type * as adm from '../../src/contract/admin.ts';
import type * as dev from '../../src/contract/terminal-device.ts';
import type * as treq from '../../src/contract/terminal-request.ts';
import type * as ses from '../../src/contract/session.ts';
import type { BodyOf, ReplyOf, Wire } from '../../src/contract/schema.ts';

/** Access governance: grants and their approval, people, terminals, recertification, tokens, the governance log. */

// The shapes of the governance and administration routes are the server's contract (src/contract/), imported
// as types only: the console bundles no zod and cannot drift from what the server sends. `Wire` is a shape as
// JSON carries it (instants as ISO strings).
export type Permission = Wire<gov.Permission>;
export type Grant = Wire<gov.Grant>;
export type GovernanceEvent = Wire<gov.GovernanceEvent>;
export type Account = Wire<adm.Account>;
export type Campaign = Wire<adm.Campaign>;
export type CampaignItem = Wire<adm.CampaignItem>;
export type Terminal = Wire<adm.Terminal>;
export type Token = Wire<adm.Token>;
export type Device = Wire<dev.Device>;
export type TerminalRequest = Wire<treq.TerminalRequest>;
export type { TokenScope } from '../../src/contract/admin.ts';

/** How one may log in (a session route: its type lives with the others, in api.ts). */
export type { AuthMethods };

const body = <T>(p: Promise<{ body: T }>) => p.then((a) => a.body);

export const governanceApi = {
  methods: () => body(call<AuthMethods>('GET', '/api/auth/methods')),
  passwordLogin: (userId: string, password: string, code: string, terminalId: string | null) =>
    body(call<Opened>('POST', '/api/session/password', terminalId === null ? { userId, password, code } : { userId, password, code, terminalId })),
  logoutEverywhere: () =>
    call<ReplyOf<typeof ses.logout, 200> | undefined>('POST', '/api/session/logout-everywhere', {}).then((a) => a.body?.providerLogout ?? null),
  permissions: () => body(call<ReplyOf<typeof gov.permissionList, 200>>('GET', '/api/permissions')),
  grants: (params: Readonly<Record<string, string>>) => body(call<ReplyOf<typeof gov.grantList, 200>>('GET', `/api/grants?${new URLSearchParams(params)}`)),
  queue: () => body(call<ReplyOf<typeof gov.grantQueue, 200>>('GET', '/api/grants/queue')),
  separationRules: () => body(call<ReplyOf<typeof gov.separationRules, 200>>('GET', '/api/grants/separation-rules')),
  request: (g: BodyOf<typeof gov.grantRequest>) => body(call<ReplyOf<typeof gov.grantRequest, 201>>('POST', '/api/grants', g)),
  approve: (id: number, comment: string) =>
    body(call<ReplyOf<typeof gov.grantApprove, 200>>('POST', `/api/grants/${id}/approve`, comment === '' ? {} : { comment })),
  reject: (id: number, comment: string) => body(call<ReplyOf<typeof gov.grantReject, 200>>('POST', `/api/grants/${id}/reject`, { comment })),
  revoke: (id: number, reason: string) => body(call<ReplyOf<typeof gov.grantRevoke, 200>>('POST', `/api/grants/${id}/revoke`, { reason })),
  accounts: (search: string) =>
    body(call<ReplyOf<typeof adm.accountList, 200>>('GET', `/api/accounts?${new URLSearchParams({ limit: '500', ...(search === '' ? {} : { search }) })}`)),
  sweep: (dryRun: boolean) => body(call<ReplyOf<typeof adm.accountSweep, 200>>('POST', '/api/accounts/sweep', { dryRun })),
  terminals: () => body(call<ReplyOf<typeof adm.terminalList, 200>>('GET', '/api/terminals')),
  retire: (id: string) => call<ReplyOf<typeof adm.terminalRetire, 200>>('POST', `/api/terminals/${encodeURIComponent(id)}/retire`, {}),
  devices: () => body(call<ReplyOf<typeof dev.deviceList, 200>>('GET', '/api/terminal-devices')),
  terminalRequests: () => body(call<ReplyOf<typeof treq.terminalRequestList, 200>>('GET', '/api/terminal-requests')),
  approveTerminalRequest: (id: number, reason: string) =>
    body(call<ReplyOf<typeof treq.terminalRequestApprove, 200>>('POST', `/api/terminal-requests/${id}/approve`, { reason })),
  rejectTerminalRequest: (id: number, reason: string) =>
    body(call<ReplyOf<typeof treq.terminalRequestReject, 200>>('POST', `/api/terminal-requests/${id}/reject`, { reason })),
  enrollThisBrowser: (id: string, label: string) =>
    body(call<ReplyOf<typeof dev.deviceEnrollThisBrowser, 201>>('POST', `/api/terminals/${encodeURIComponent(id)}/devices`, { label })),
  issueEnrollmentCode: (id: string) =>
    body(call<ReplyOf<typeof dev.enrollmentCodeIssue, 201>>('POST', `/api/terminals/${encodeURIComponent(id)}/enrollment-codes`, {})),
  revokeDevice: (id: number, reason: string) => body(call<ReplyOf<typeof dev.deviceRevoke, 200>>('POST', `/api/terminal-devices/${id}/revoke`, { reason })),
  confirmDevice: (id: number) => body(call<ReplyOf<typeof dev.deviceConfirm, 200>>('POST', `/api/terminal-devices/${id}/confirm`, {})),
  rejectDevice: (id: number, reason: string) => body(call<ReplyOf<typeof dev.deviceReject, 200>>('POST', `/api/terminal-devices/${id}/reject`, { reason })),
  campaigns: () => body(call<ReplyOf<typeof adm.campaignList, 200>>('GET', '/api/campaigns')),
  startCampaign: (name: string, endsOn: string) => body(call<ReplyOf<typeof adm.campaignStart, 201>>('POST', '/api/campaigns', { name, endsOn })),
  campaignItems: (id: number) => body(call<ReplyOf<typeof adm.campaignItems, 200>>('GET', `/api/campaigns/${id}/items`)),
  decideItem: (id: number, grantId: number, decision: BodyOf<typeof adm.campaignDecide>['decision']) =>
    call<ReplyOf<typeof adm.campaignDecide, 200>>('POST', `/api/campaigns/${id}/items/${grantId}`, { decision }),
  tokens: () => body(call<ReplyOf<typeof adm.tokenList, 200>>('GET', '/api/tokens')),
  createToken: (t: BodyOf<typeof adm.tokenCreate>) => body(call<ReplyOf<typeof adm.tokenCreate, 201>>('POST', '/api/tokens', t)),
  decideToken: (id: string, decision: 'approve' | 'reject') =>
    call<ReplyOf<typeof adm.tokenDecide, 200>>('POST', `/api/tokens/${encodeURIComponent(id)}/${decision}`, {}),
  createServiceAccount: (a: BodyOf<typeof adm.serviceAccountCreate>) =>
    body(call<ReplyOf<typeof adm.serviceAccountCreate, 201>>('POST', '/api/service-accounts', a)),
  revokeToken: (id: string) => call<ReplyOf<typeof adm.tokenRevoke, 200>>('POST', `/api/tokens/${encodeURIComponent(id)}/revoke`, {}),
  events: () => body(call<ReplyOf<typeof gov.governanceEvents, 200>>('GET', '/api/governance/events?limit=200')),
};
