import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';
import Provider from 'oidc-provider';

/**
 * A real OpenID provider (the `oidc-provider` package, certified by the OpenID Foundation) on a local port,
 * with its development login screen: any login name becomes the subject. Nothing is mocked — gridwall
 * discovers it, sends the browser to it and exchanges codes with it over HTTP.
 *
 * To prove gridwall checks the ID token rather than trusting the channel, `tamper` may rewrite the ID token
 * in the token endpoint's answer before it leaves the provider (as a compromised or impersonated provider
 * would): re-signed with the provider's real key after changing a claim, unsigned, or signed by another key.
 */
export interface TestIdentityProvider {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  /** Rewrites the next ID tokens the token endpoint returns; null passes them unchanged. */
  tamper: ((idToken: string) => Promise<string>) | null;
  /** Signs claims with the provider's own key (header `kid` as the provider's). */
  signAsProvider(claims: jose.JWTPayload): Promise<string>;
  /** Signs claims with a key the provider never published, under the provider's `kid`. */
  signAsImpostor(claims: jose.JWTPayload): Promise<string>;
  close(): Promise<void>;
}

const KID = 'test-rs256';

/**
 * `postLogoutRedirectUris`: where the provider may send the browser after RP-initiated logout (registered
 * for the client); `rpLogout: false` runs a provider that publishes no end_session_endpoint at all.
 */
export async function startIdentityProvider(
  redirectUri: string,
  opts: { readonly postLogoutRedirectUris?: readonly string[]; readonly rpLogout?: boolean } = {},
): Promise<TestIdentityProvider> {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const impostor = await jose.generateKeyPair('RS256');
  const jwk = { ...(await jose.exportJWK(privateKey)), kid: KID, alg: 'RS256', use: 'sig' };

  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'gridwall-test';
  const clientSecret = 'a-client-secret-long-enough-for-client-secret-basic';

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        post_logout_redirect_uris: [...(opts.postLogoutRedirectUris ?? [new URL('/', redirectUri).href])],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [jwk] },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: opts.rpLogout ?? true } },
    cookies: { keys: ['test-cookie-signing-key-0123456789'] },
    // Explicit lifetimes (seconds), which also keeps the provider from printing a notice for each default.
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
  });
  provider.on('server_error', (_ctx, err) => process.stderr.write(`identity provider error: ${String(err)}\n`));
  const handle = provider.callback();

  const idp: TestIdentityProvider = {
    issuer,
    clientId,
    clientSecret,
    redirectUri,
    tamper: null,
    signAsProvider: (claims) => new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT' }).sign(privateKey),
    signAsImpostor: (claims) => new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT' }).sign(impostor.privateKey),
    close: () => new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const tamper = idp.tamper;
    if (tamper !== null && req.method === 'POST' && req.url === '/token') rewriteIdToken(res, tamper);
    void handle(req, res);
  });
  return idp;
}

/** Holds back the token response's body, rewrites its `id_token`, then sends it with a corrected length. */
function rewriteIdToken(res: ServerResponse, tamper: (idToken: string) => Promise<string>): void {
  const end = res.end.bind(res);
  res.end = ((chunk?: string | Buffer | null) => {
    const text = chunk === undefined || chunk === null ? '' : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : chunk;
    void (async () => {
      let body = text;
      try {
        const json = JSON.parse(text) as { id_token?: string };
        if (typeof json.id_token === 'string') body = JSON.stringify({ ...json, id_token: await tamper(json.id_token) });
      } catch {
        // not JSON (an error page): pass it on unchanged
      }
      res.setHeader('content-length', Buffer.byteLength(body));
      end(body);
    })();
    return res;
  }) as typeof res.end;
}

/** A cookie jar for one origin: enough for the provider's and gridwall's cookies. */
export class CookieJar {
  readonly #cookies = new Map<string, string>();

  store(setCookies: readonly string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1] ?? '') < Date.now()));
      if (expired || value === '') this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  get(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/**
 * Plays the browser at the provider: from gridwall's authorization URL through the login and consent
 * screens (login name `subject`) to the redirect back to gridwall, whose URL it returns. `abort` cancels at
 * the login screen instead (the provider then redirects back with `error=access_denied`).
 */
export async function signInAtProvider(authorizationUrl: string, subject: string, opts: { abort?: boolean } = {}): Promise<URL> {
  const jar = new CookieJar();
  let url = new URL(authorizationUrl);
  let method = 'GET';
  let body: URLSearchParams | undefined;
  const origin = url.origin;
  for (let hop = 0; hop < 20; hop++) {
    const res = await fetch(url, {
      method,
      redirect: 'manual',
      headers: { cookie: jar.header(), ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }) },
      ...(body === undefined ? {} : { body }),
    });
    jar.store(res.headers.getSetCookie());
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location !== null) {
      const next = new URL(location, url);
      if (next.origin !== origin) return next; // back to gridwall
      url = next;
      method = 'GET';
      body = undefined;
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`identity provider answered ${res.status} at ${url.pathname}: ${html.slice(0, 300)}`);
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
    if (prompt === 'login' && opts.abort === true) {
      url = new URL(`${url.pathname}/abort`, url);
      method = 'GET';
      body = undefined;
    } else if (prompt === 'login') {
      method = 'POST';
      body = new URLSearchParams({ prompt: 'login', login: subject, password: 'anything' });
    } else if (prompt === 'consent') {
      method = 'POST';
      body = new URLSearchParams({ prompt: 'consent' });
    } else {
      throw new Error(`unexpected page at the identity provider (${url.pathname}): ${html.slice(0, 300)}`);
    }
  }
  throw new Error('too many redirects at the identity provider');
}
