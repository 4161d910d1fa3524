import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configurationReference, loadConfig } from '../../src/config.ts';

/** Variables read outside the configuration schema, on purpose: a command's secret input, never configuration. */
const COMMAND_INPUTS = ['GRIDWALL_NEW_PASSWORD'];

const reference = configurationReference();
const documented = new Set([...reference.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1] ?? ''));

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name), ext) : ext.test(e.name) ? [join(dir, e.name)] : [],
  );
}

test('docs/CONFIGURATION.md is the reference the schema generates (run `npm run docs:config` after changing src/config.ts)', () => {
  assert.equal(readFileSync('docs/CONFIGURATION.md', 'utf8'), reference);
  assert.ok(documented.size >= 40, `${documented.size} variables documented`);
  for (const v of ['DATABASE_URL', 'GRIDWALL_LOG_KEY_FILE', 'GRIDWALL_DB_STATEMENT_TIMEOUT_MS', 'GRIDWALL_METRICS_PORT']) assert.ok(documented.has(v), v);
});

test('every variable the docs or the code name is in the schema (or is a command input)', () => {
  const named = new Set<string>();
  for (const f of [...files('docs', /\.md$/), 'README.md', ...files('src', /\.ts$/)])
    for (const m of readFileSync(f, 'utf8').matchAll(/\bGRIDWALL_[A-Z0-9]+(?:_[A-Z0-9]+)*\b/g)) named.add(m[0]);
  const unknown = [...named].filter((v) => !documented.has(v) && !COMMAND_INPUTS.includes(v));
  assert.deepEqual(unknown, []);
  assert.ok(named.size > 20, 'the scan found the names');
});

test('each default in the reference is what the server gets from an empty environment', () => {
  const c = loadConfig({});
  const rowOf = (v: string) => reference.split('\n').find((l) => l.startsWith(`| \`${v}\` |`)) ?? '';
  assert.match(rowOf('PORT'), new RegExp(`\\| \`${c.port}\` \\|`));
  assert.match(rowOf('GRIDWALL_DB_STATEMENT_TIMEOUT_MS'), new RegExp(`\\| \`${c.dbTimeouts.statementMs}\` \\|`));
  assert.match(rowOf('GRIDWALL_HTTP_HEADERS_TIMEOUT_MS'), new RegExp(`\\| \`${c.httpTimeouts.headersMs}\` \\|`));
  assert.match(rowOf('GRIDWALL_SECURE_COOKIES'), /\| `true` \|/);
  assert.equal(c.secureCookies, true);
});

test('GRIDWALL_TRUST_PROXY: true, a number of hops, or addresses; anything else is refused naming the variable', () => {
  assert.equal(loadConfig({}).trustProxy, false);
  assert.equal(loadConfig({ GRIDWALL_TRUST_PROXY: 'true' }).trustProxy, true);
  assert.equal(loadConfig({ GRIDWALL_TRUST_PROXY: '2' }).trustProxy, 2);
  assert.equal(loadConfig({ GRIDWALL_TRUST_PROXY: '10.0.0.1, 192.168.0.0/16' }).trustProxy, '10.0.0.1, 192.168.0.0/16');
  assert.throws(() => loadConfig({ GRIDWALL_TRUST_PROXY: 'proxy.example.jp' }), /GRIDWALL_TRUST_PROXY: "proxy\.example\.jp" is not an address/);
});

test('GRIDWALL_SMTP_*: unset is no mail; a URL needs a From; a refusal never quotes the URL (it may hold a password)', () => {
  assert.equal(loadConfig({}).mail, null);
  assert.equal(loadConfig({ GRIDWALL_SMTP_FROM: 'gridwall@nw.example.jp' }).mail, null, 'a From alone mails nothing');
  const url = 'smtps://gridwall:p%40ss-w0rd@smtp.nw.example.jp:465';
  assert.deepEqual(loadConfig({ GRIDWALL_SMTP_URL: url, GRIDWALL_SMTP_FROM: 'gridwall <gridwall@nw.example.jp>' }).mail, {
    url,
    from: 'gridwall <gridwall@nw.example.jp>',
    timeoutMs: 10_000,
  });
  assert.equal(
    loadConfig({ GRIDWALL_SMTP_URL: 'smtp://127.0.0.1:25', GRIDWALL_SMTP_FROM: 'gridwall@nw.example.jp', GRIDWALL_SMTP_TIMEOUT_MS: '3000' }).mail?.timeoutMs,
    3000,
  );
  const refusals: [Record<string, string>, RegExp][] = [
    [{ GRIDWALL_SMTP_URL: url }, /GRIDWALL_SMTP_URL needs GRIDWALL_SMTP_FROM/],
    [{ GRIDWALL_SMTP_URL: 'https://gridwall:p%40ss-w0rd@smtp.nw.example.jp', GRIDWALL_SMTP_FROM: 'gridwall@nw.example.jp' }, /GRIDWALL_SMTP_URL must be smtp:/],
    [{ GRIDWALL_SMTP_URL: url, GRIDWALL_SMTP_FROM: 'gridwall' }, /GRIDWALL_SMTP_FROM must be an address/],
    [{ GRIDWALL_SMTP_URL: url, GRIDWALL_SMTP_FROM: 'a@b.jp\r\nBcc: c@d.jp' }, /GRIDWALL_SMTP_FROM must be an address/],
    [{ GRIDWALL_SMTP_URL: 'smtp://gridwall:p@ss-w0rd@', GRIDWALL_SMTP_FROM: 'gridwall@nw.example.jp' }, /GRIDWALL_SMTP_URL/],
  ];
  for (const [env, message] of refusals)
    assert.throws(
      () => loadConfig(env),
      (e: unknown) => e instanceof Error && message.test(e.message) && !e.message.includes('w0rd'),
      JSON.stringify(env),
    );
});
