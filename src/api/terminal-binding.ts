import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { claimedTerminal, deviceBinding, NO_TERMINAL, type TerminalBinding } from '../identity/terminal-devices.ts';
import type { AppDeps, TerminalProxy } from './context.ts';

/**
 * The terminal of a login, found the same way for every login method (persona, password + TOTP, single
 * sign-on), in this order:
 *
 * 1. a terminal asserted by a trusted reverse proxy (GRIDWALL_TERMINAL_HEADER, e.g. the CN of the client
 *    certificate it verified), honoured only on a connection from one of the GRIDWALL_TRUST_PROXY addresses;
 * 2. the browser's device binding (the `gw_device` cookie an access administrator's enrolment set); a binding
 *    awaiting a second administrator's confirmation is passed on as it is, never a fall-back to a claim: the
 *    session store binds nothing through it (the terminal's standing is `none`), but the login's side rule
 *    still knows where the browser is (a retail person at a network-site PC whose binding waits is caught);
 * 3. the terminal ID the person typed or sent — their own claim, used only where neither of the above
 *    exists and GRIDWALL_TERMINAL_CLAIMS is `accept`; recorded as `claimed`.
 */

/** The browser's device binding: a random secret whose SHA-256 the store keeps against a terminal. */
export const DEVICE_COOKIE = 'gw_device';
/** Sent to the API only (login routes, the device routes), never to the console's files. */
export const DEVICE_COOKIE_PATH = '/api/';
/** As long as browsers keep a cookie (Chromium caps a cookie's life at 400 days). */
const DEVICE_COOKIE_MAX_AGE_S = 400 * 86_400;

const TERMINAL_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** An entry of GRIDWALL_TRUST_PROXY that is no IP address or network: named, so configuration can say which. */
export class TrustedProxyError extends Error {
  constructor(
    readonly entry: string,
    why: string,
  ) {
    super(`"${entry}" ${why}`);
  }
}

/**
 * GRIDWALL_TERMINAL_HEADER's proxy: only the addresses and networks of GRIDWALL_TRUST_PROXY (not `true`, not
 * a number of hops — those do not say which peer is the proxy). Throws `TrustedProxyError` naming the first
 * entry that is not an IPv4/IPv6 address or a network with a prefix length in range (loadConfig turns it into
 * a configuration error at start, rather than a header silently never believed).
 */
export function terminalProxy(header: string, trust: string): TerminalProxy {
  const list = new BlockList();
  for (const raw of trust.split(',')) {
    const part = raw.trim();
    const [address = '', bits, extra] = part.split('/');
    const type = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : null;
    if (type === null || extra !== undefined) throw new TrustedProxyError(part, 'is not an IP address or network (a.b.c.d, a.b.c.d/n, or IPv6)');
    if (bits === undefined) list.addAddress(address, type);
    else {
      const max = type === 'ipv4' ? 32 : 128;
      if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) throw new TrustedProxyError(part, `has no prefix length from 0 to ${max}`);
      list.addSubnet(address, Number(bits), type);
    }
  }
  return {
    header: header.toLowerCase(),
    trusted: (peer) => {
      const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(peer)?.[1];
      if (v4 !== undefined) return list.check(v4, 'ipv4');
      return isIPv4(peer) ? list.check(peer, 'ipv4') : isIPv6(peer) ? list.check(peer, 'ipv6') : false;
    },
  };
}

/**
 * The terminal this request's login comes from; `claimed` is the terminal ID the client sent, if any.
 * `pendingDevice`: the terminal of the browser's binding that awaits a second administrator's confirmation
 * (then `binding` has no terminal), for the login screen to say so.
 */
export async function resolveTerminal(
  req: FastifyRequest,
  deps: AppDeps,
  claimed: string | null,
): Promise<{ binding: TerminalBinding; pendingDevice: string | null }> {
  const proxy = deps.terminalProxy ?? null;
  if (proxy !== null && proxy.trusted(req.socket.remoteAddress ?? '')) {
    const asserted = req.headers[proxy.header];
    if (typeof asserted === 'string' && asserted !== '')
      // The proxy vouches for the terminal: a malformed value is no terminal at all, never a fallback to a claim.
      return { binding: TERMINAL_ID.test(asserted) ? { terminalId: asserted, source: 'proxy', deviceId: null } : NO_TERMINAL, pendingDevice: null };
  }
  const secret = req.cookies[DEVICE_COOKIE];
  if (secret !== undefined && secret !== '') {
    const bound = await deviceBinding(deps.db, secret);
    if (bound !== null) return { binding: bound.binding, pendingDevice: bound.pending ? bound.binding.terminalId : null };
  }
  return { binding: (deps.terminalClaims ?? 'accept') === 'accept' ? claimedTerminal(claimed) : NO_TERMINAL, pendingDevice: null };
}

/** The terminal this request's login comes from (`resolveTerminal`'s binding). */
export async function bindTerminal(req: FastifyRequest, deps: AppDeps, claimed: string | null): Promise<TerminalBinding> {
  return (await resolveTerminal(req, deps, claimed)).binding;
}

/** Hands the browser its device secret: HttpOnly, Secure, SameSite=Strict, for the API's paths. */
export function setDeviceCookie(reply: FastifyReply, deps: AppDeps, secret: string): void {
  reply.setCookie(DEVICE_COOKIE, secret, {
    httpOnly: true,
    sameSite: 'strict',
    secure: deps.secureCookies,
    path: DEVICE_COOKIE_PATH,
    maxAge: DEVICE_COOKIE_MAX_AGE_S,
  });
}
