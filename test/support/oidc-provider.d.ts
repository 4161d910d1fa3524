/**
 * The little of `oidc-provider` the tests use (the package ships no types, and @types/oidc-provider lags
 * its major versions): a provider built from a configuration, serving HTTP through `callback()`.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface Account {
    readonly accountId: string;
    claims(): Promise<{ sub: string } & Record<string, unknown>>;
  }

  export interface Configuration {
    readonly clients?: readonly Record<string, unknown>[];
    readonly jwks?: { readonly keys: readonly Record<string, unknown>[] };
    readonly findAccount?: (ctx: unknown, sub: string) => Promise<Account | undefined>;
    readonly features?: Record<string, unknown>;
    readonly cookies?: { readonly keys?: readonly string[] };
    readonly ttl?: Record<string, number | ((...args: unknown[]) => number)>;
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    on(event: 'server_error', listener: (ctx: unknown, err: unknown) => void): this;
  }
}
