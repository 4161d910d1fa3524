import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config.ts';

/**
 * Where a login's terminal may come from (issue 19, docs/identity.md): typed terminal IDs believed on the
 * embedded store and ignored on a server unless configured, and a reverse proxy's terminal header believed
 * only from proxies named by IP address or network — a misconfiguration is refused at start, naming the entry.
 */

const SERVER = { DATABASE_URL: 'postgres://gridwall@127.0.0.1:5432/gridwall', GRIDWALL_LOG_KEY_FILE: '/nonexistent/key.pem' };

test('GRIDWALL_TERMINAL_CLAIMS: accepted on the embedded store, ignored with DATABASE_URL, either when set', () => {
  assert.equal(loadConfig({}).terminalClaims, 'accept');
  assert.equal(loadConfig(SERVER).terminalClaims, 'ignore');
  assert.equal(loadConfig({ ...SERVER, GRIDWALL_TERMINAL_CLAIMS: 'accept' }).terminalClaims, 'accept');
  assert.equal(loadConfig({ GRIDWALL_TERMINAL_CLAIMS: 'ignore' }).terminalClaims, 'ignore');
  assert.throws(() => loadConfig({ GRIDWALL_TERMINAL_CLAIMS: 'yes' }), /GRIDWALL_TERMINAL_CLAIMS/);
});

test('GRIDWALL_TERMINAL_HEADER: with proxies named by address it is set; without, or with true or hops, refused', () => {
  assert.equal(loadConfig({}).terminalHeader, null);
  assert.deepEqual(loadConfig({ GRIDWALL_TERMINAL_HEADER: 'X-Client-Cert-CN', GRIDWALL_TRUST_PROXY: '10.0.0.5, 192.168.10.0/24, ::1' }).terminalHeader, {
    header: 'x-client-cert-cn',
    proxies: '10.0.0.5, 192.168.10.0/24, ::1',
  });
  for (const trust of [undefined, 'true', '2', 'false'])
    assert.throws(
      () => loadConfig({ GRIDWALL_TERMINAL_HEADER: 'x-client-cert-cn', ...(trust === undefined ? {} : { GRIDWALL_TRUST_PROXY: trust }) }),
      (e: unknown) => e instanceof ConfigError && /GRIDWALL_TERMINAL_HEADER needs GRIDWALL_TRUST_PROXY/.test(e.message),
      String(trust),
    );
  assert.throws(() => loadConfig({ GRIDWALL_TERMINAL_HEADER: 'x client cn', GRIDWALL_TRUST_PROXY: '10.0.0.5' }), /GRIDWALL_TERMINAL_HEADER/);
});

test('GRIDWALL_TRUST_PROXY entries that pass its pattern but are no IP address or network: refused naming the entry when the header is set', () => {
  for (const bad of ['10.0.0', '10.0.0.0/33', '::1/129', '1.2.3.4.5', '1:1:1:1:1:1:1:1:1']) {
    assert.throws(
      () => loadConfig({ GRIDWALL_TERMINAL_HEADER: 'x-client-cert-cn', GRIDWALL_TRUST_PROXY: `10.0.0.5,${bad}` }),
      (e: unknown) => e instanceof ConfigError && e.message.includes(`GRIDWALL_TRUST_PROXY: "${bad}"`) && !(e instanceof RangeError),
      bad,
    );
    // Without the header the entry is Fastify's business, as before (the pattern alone).
    assert.equal(loadConfig({ GRIDWALL_TRUST_PROXY: `10.0.0.5,${bad}` }).terminalHeader, null);
  }
});
