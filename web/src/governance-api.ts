import { call, type Me } from './api.ts';

/** Access governance: grants and their approval, people, terminals, recertification, tokens, the governance log. */

export interface Permission {
  readonly id: string;
  readonly ja: string;
  readonly en: string;
  readonly allowedSides: readonly string[];
  readonly scoped: boolean;
  readonly maxDays: number;
}

export interface Grant {
  readonly id: number;
  readonly userId: string;
  readonly personName: string;
  readonly permissionId: string;
  readonly scopeOrganizationId: string | null;
  readonly status: 'requested' | 'approved' | 'rejected' | 'revoked';
  readonly reason: string;
  readonly requestedBy: string;
  readonly decidedBy: string | null;
  readonly expiresAt: string;
  readonly holderSide: string | null;
}

export interface Account {
  readonly userId: string;
  readonly personId: string;
  readonly personName: string;
  readonly lastLoginAt: string | null;
  readonly disabledAt: string | null;
  readonly assignment: { organizationName: string; side: string; office: string; employment: string } | null;
  readonly grants: number;
  readonly dormant: boolean;
  readonly orphan: boolean;
}

export interface Terminal {
  readonly id: string;
  readonly organizationName: string;
  readonly office: string;
  readonly kind: string;
  readonly setting: string;
  readonly siteSide: string;
  readonly retiredAt: string | null;
  readonly lastUsedAt: string | null;
  readonly misplaced: boolean;
  readonly unused: boolean;
}

export interface Campaign {
  readonly id: number;
  readonly name: string;
  readonly endsAt: string;
  readonly confirmed: number;
  readonly revoked: number;
  readonly open: number;
}

export interface CampaignItem {
  readonly grantId: number;
  readonly userId: string;
  readonly personName: string;
  readonly permissionId: string;
  readonly decision: 'confirmed' | 'revoked' | null;
}

export interface Token {
  readonly id: string;
  readonly name: string;
  readonly userId: string;
  readonly serviceName: string;
  readonly ownerPersonId: string | null;
  readonly scopes: readonly string[];
  readonly status: string;
  readonly createdBy: string;
  readonly expiresAt: string;
  readonly revokedAt: string | null;
  readonly revokeReason: string | null;
}

export interface GovernanceEvent {
  readonly id: number;
  readonly occurredAt: string;
  readonly actorUserId: string | null;
  readonly action: string;
  readonly subjectType: string;
  readonly subjectId: string;
  readonly outcome: string;
  readonly rule: string | null;
}

export interface AuthMethods {
  readonly demo: boolean;
  readonly password: boolean;
  readonly oidc: { readonly label: string; readonly loginUrl: string } | null;
}

const body = <T>(p: Promise<{ body: T }>) => p.then((a) => a.body);

export const governanceApi = {
  methods: () => body(call<AuthMethods>('GET', '/api/auth/methods')),
  passwordLogin: (userId: string, password: string, code: string, terminalId: string | null) =>
    body(call<{ csrfToken: string; me: Omit<Me, 'csrfToken'> }>('POST', '/api/session/password', terminalId === null ? { userId, password, code } : { userId, password, code, terminalId })),
  logoutEverywhere: () => call<undefined>('POST', '/api/session/logout-everywhere', {}),
  permissions: () => body(call<{ permissions: Permission[] }>('GET', '/api/permissions')),
  grants: (params: Readonly<Record<string, string>>) => body(call<{ grants: Grant[] }>('GET', `/api/grants?${new URLSearchParams(params)}`)),
  queue: () => body(call<{ grants: Grant[] }>('GET', '/api/grants/queue')),
  request: (g: { userId: string; permissionId: string; scopeOrganizationId?: string; reason: string; expiresOn: string }) => body(call<Grant>('POST', '/api/grants', g)),
  approve: (id: number, comment: string) => body(call<Grant>('POST', `/api/grants/${id}/approve`, comment === '' ? {} : { comment })),
  reject: (id: number, comment: string) => body(call<Grant>('POST', `/api/grants/${id}/reject`, { comment })),
  revoke: (id: number, reason: string) => body(call<Grant>('POST', `/api/grants/${id}/revoke`, { reason })),
  accounts: (search: string) => body(call<{ accounts: Account[] }>('GET', `/api/accounts?${new URLSearchParams({ limit: '500', ...(search === '' ? {} : { search }) })}`)),
  sweep: (dryRun: boolean) => body(call<{ disabled: { userId: string; rule: string }[] }>('POST', '/api/accounts/sweep', { dryRun })),
  terminals: () => body(call<{ terminals: Terminal[] }>('GET', '/api/terminals')),
  retire: (id: string) => call<unknown>('POST', `/api/terminals/${encodeURIComponent(id)}/retire`, {}),
  campaigns: () => body(call<{ campaigns: Campaign[] }>('GET', '/api/campaigns')),
  startCampaign: (name: string, endsOn: string) => body(call<Campaign>('POST', '/api/campaigns', { name, endsOn })),
  campaignItems: (id: number) => body(call<{ items: CampaignItem[] }>('GET', `/api/campaigns/${id}/items`)),
  decideItem: (id: number, grantId: number, decision: 'confirmed' | 'revoked') => call<unknown>('POST', `/api/campaigns/${id}/items/${grantId}`, { decision }),
  tokens: () => body(call<{ tokens: Token[] }>('GET', '/api/tokens')),
  createToken: (t: { userId: string; name: string; scopes: string[]; expiresOn: string }) => body(call<{ id: string; token: string }>('POST', '/api/tokens', t)),
  decideToken: (id: string, decision: 'approve' | 'reject') => call<unknown>('POST', `/api/tokens/${encodeURIComponent(id)}/${decision}`, {}),
  createServiceAccount: (a: { userId: string; name: string; organizationId?: string; ownerPersonId: string }) => body(call<{ userId: string; personId: string }>('POST', '/api/service-accounts', a)),
  revokeToken: (id: string) => call<unknown>('POST', `/api/tokens/${encodeURIComponent(id)}/revoke`, {}),
  events: () => body(call<{ events: GovernanceEvent[] }>('GET', '/api/governance/events?limit=200')),
};
