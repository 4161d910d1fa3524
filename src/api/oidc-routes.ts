import type { FastifyInstance } from 'fastify';
import { errorFields } from './server-log.ts';
import { LOGIN_TTL_MS } from '../identity/oidc.ts';
import type { AppDeps } from './context.ts';
import { ApiError } from './errors.ts';
import { Refusal } from '../domain/refusal.ts';
import { recordLoginRefusal, startSession } from './session-routes.ts';
import * as c from '../contract/session.ts';
import { route, type RouteTypes } from '../contract/schema.ts';
import { bindTerminal } from './terminal-binding.ts';

/** The browser's handle on its login in flight; only the OIDC routes ever see it. */
export const OIDC_COOKIE = 'gw_oidc';
const OIDC_PATH = '/api/auth/oidc/';

/** Where the console shows a refused login: the login screen with the refusal's code. */
const refusedTo = (code: string) => `/?${new URLSearchParams({ loginError: code }).toString()}`;

/**
 * OpenID Connect login (authorization code + PKCE): `login` sends the browser to the identity provider,
 * `callback` is where it comes back. Both are browser navigations, so they answer with redirects — to the
 * console after a login, to the login screen with an error code after a refusal — never with JSON.
 */
export function registerOidcRoutes(app: FastifyInstance, deps: AppDeps): void {
  const limit = { rateLimit: { max: deps.loginRateLimit, timeWindow: '1 minute' } };

  app.get<RouteTypes<typeof c.authMethods>>(
    '/api/auth/methods',
    { schema: route(c.authMethods, { tags: ['session'], summary: 'How one may log in on this server (for the login screen)' }) },
    async () => ({
      demo: deps.demoLogin,
      password: deps.passwordLogin === true,
      oidc: deps.oidc === undefined || deps.oidc === null ? null : { label: deps.oidc.label, loginUrl: `${OIDC_PATH}login` },
    }),
  );

  app.get<RouteTypes<typeof c.oidcLogin>>(
    `${OIDC_PATH}login`,
    {
      config: limit,
      schema: route(c.oidcLogin, {
        tags: ['session'],
        summary: 'Start a single sign-on login: redirects to the identity provider',
        description: 'Answers 303 to the identity provider (or to the login screen with an error code).',
      }),
    },
    async (req, reply) => {
      const login = deps.oidc;
      if (login === undefined || login === null) throw new ApiError('oidc_disabled', 'single sign-on is not configured on this server (GRIDWALL_OIDC_ISSUER)');
      // Read here, where the browser's SameSite=Strict device cookie arrives; the callback comes from the provider's site.
      const terminal = await bindTerminal(req, deps, req.query.terminalId ?? null);
      let started: { handle: string; url: URL };
      try {
        started = await login.begin(terminal, deps.clock());
      } catch (e) {
        req.log.error({ error: errorFields(e) }, 'identity provider unavailable');
        await recordLoginRefusal(reply, deps, '(before login)', 'oidc', 'oidc_unavailable', terminal, { detail: e instanceof Error ? e.message : String(e) });
        return reply.redirect(refusedTo('oidc_unavailable'), 303);
      }
      // Lax, not Strict: the browser must send it on the top-level redirect back from the provider's site.
      reply.setCookie(OIDC_COOKIE, started.handle, {
        httpOnly: true,
        sameSite: 'lax',
        secure: deps.secureCookies,
        path: OIDC_PATH,
        maxAge: LOGIN_TTL_MS / 1000,
      });
      return reply.redirect(started.url.href, 303);
    },
  );

  app.get<RouteTypes<typeof c.oidcCallback>>(
    `${OIDC_PATH}callback`,
    {
      config: limit,
      schema: route(c.oidcCallback, {
        tags: ['session'],
        summary: 'Where the identity provider sends the browser back; opens the session',
        description: 'Answers 303 to the console after a login, to the login screen with an error code after a refusal.',
      }),
    },
    async (req, reply) => {
      const login = deps.oidc;
      if (login === undefined || login === null) throw new ApiError('oidc_disabled', 'single sign-on is not configured on this server (GRIDWALL_OIDC_ISSUER)');
      const query = new URLSearchParams(req.url.slice(req.url.indexOf('?') + 1 || req.url.length));
      const result = await login.finish(req.cookies[OIDC_COOKIE], query, deps.clock());
      reply.clearCookie(OIDC_COOKIE, { path: OIDC_PATH });
      if (!result.ok) {
        const who = result.userId ?? (result.subject === undefined ? '(unknown)' : `oidc:${result.subject}`);
        await recordLoginRefusal(reply, deps, who, 'oidc', result.reason, result.terminal ?? null, {
          detail: result.detail,
          ...(result.subject === undefined ? {} : { subject: result.subject }),
        });
        return reply.redirect(refusedTo(result.reason), 303);
      }
      try {
        await startSession(reply, deps, result.userId, result.terminal, 'oidc', result.idToken);
      } catch (e) {
        if (e instanceof ApiError) return reply.redirect(refusedTo(e.code), 303); // recorded by startSession
        // A rule's refusal (retail_on_network_terminal) goes back to the login screen by its rule, never as JSON.
        if (e instanceof Refusal) return reply.redirect(refusedTo(String(e.rule)), 303);
        throw e;
      }
      return reply.redirect('/search', 303);
    },
  );
}
