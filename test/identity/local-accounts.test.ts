import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import { AccountError, enrollTotp, passwordProblem, setPassword, verifyLogin } from '../../src/identity/local-accounts.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { seededApp, testApp, type Session } from '../support/app.ts';
import { runCli } from '../support/cli.ts';
import { NOW, USERS, seedFixture } from '../support/fixture.ts';
import { openEmbeddedDir, STORES } from '../support/stores.ts';

const STEP = 30_000;
const PASSWORD = 'つよいパスワード correct horse';
const FAILED = 'user ID, password or one-time code is wrong';

/** The code an authenticator app shows at `at` for a base32 secret. */
function codeAt(secret: string, at: Date): string {
  return new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({ timestamp: at.getTime() });
}

/** The start of the TOTP step `n` steps after the one holding NOW (so tests do not share steps). */
const stepAt = (n: number) => new Date((Math.floor(NOW.getTime() / STEP) + n) * STEP + 1000);

function sessionOf(res: LightMyRequestResponse): Session {
  const set = res.cookies.find((c) => c.name === 'gw_session');
  if (set === undefined) throw new Error('no session cookie');
  return { cookie: `gw_session=${set.value}`, csrf: res.json<{ csrfToken: string }>().csrfToken };
}

function assertLoginFailed(res: LightMyRequestResponse, what: string): void {
  assert.equal(res.statusCode, 401, `${what}: ${res.body}`);
  const body = res.json<{ error: { code: string; message: string } }>();
  assert.equal(body.error.code, 'login_failed', what);
  assert.equal(body.error.message, FAILED, what);
  assert.equal(res.cookies.length, 0, `${what}: no cookie`);
}

for (const store of STORES) {
  describe(`local accounts (password + TOTP) on ${store.name}`, () => {
    let now = NOW;
    const secrets = new Map<string, string>();
    const w = seededApp(store, { now: () => now }, async (db) => {
      // Call centre: password + TOTP. Retail: password only. Admin 2: both, then disabled. Service centre: nothing.
      for (const u of [USERS.callCentre, USERS.retail, USERS.admin2, USERS.mover]) await setPassword(db, u, PASSWORD);
      for (const u of [USERS.callCentre, USERS.admin2, USERS.mover]) secrets.set(u, (await enrollTotp(db, u, 'gridwall test')).secret);
      await db.query('UPDATE accounts SET disabled_at = $2 WHERE user_id = $1', [USERS.admin2, NOW]);
    });
    const login = (body: Record<string, unknown>) => w.app.inject({ method: 'POST', url: '/api/session/password', payload: body });
    const me = (s: Session) => w.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: s.cookie } });
    const secret = (u: string) => secrets.get(u) ?? assert.fail(`no secret for ${u}`);

    test('the stored hash is argon2id with the OWASP parameters, never the password; the policy names what is wrong', async () => {
      const { rows } = await w.db.query<{ password_hash: string; totp_secret: string }>('SELECT password_hash, totp_secret FROM accounts WHERE user_id = $1', [
        USERS.callCentre,
      ]);
      const row = rows[0] ?? assert.fail('no account');
      assert.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      assert.ok(!row.password_hash.includes(PASSWORD) && !row.password_hash.includes('correct horse'));
      assert.equal(row.totp_secret, secret(USERS.callCentre), 'no key: the secret is stored in the clear (documented)');

      assert.match(passwordProblem('u-cc', 'short') ?? '', /at least 12 characters/);
      assert.match(passwordProblem('u-callcentre01', 'U-CallCentre01') ?? '', /must not be the user ID/);
      assert.equal(passwordProblem('u-cc', PASSWORD), null);
      await assert.rejects(setPassword(w.db, USERS.callCentre, 'elevenchars'), (e: unknown) => e instanceof AccountError && e.rule === 'weak_password');
      await assert.rejects(setPassword(w.db, 'u-nobody', PASSWORD), (e: unknown) => e instanceof AccountError && e.rule === 'unknown_account');
      await assert.rejects(enrollTotp(w.db, 'u-nobody', 'gridwall'), (e: unknown) => e instanceof AccountError && e.rule === 'unknown_account');
      const events = await w.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM governance_events WHERE subject_id = $1 AND action IN ('account.set_password', 'account.enroll_totp')`,
        [USERS.callCentre],
      );
      assert.equal(events.rows[0]?.n, 2, 'setting credentials is recorded as governance evidence');
    });

    test('right password and current code: 201, a password session, /api/me works; the same code again is refused', async () => {
      now = stepAt(0);
      const code = codeAt(secret(USERS.callCentre), now);
      const res = await login({ userId: USERS.callCentre, password: PASSWORD, code });
      assert.equal(res.statusCode, 201, res.body);
      const body = res.json<{ csrfToken: string; me: { userId: string; authMethod: string } }>();
      assert.equal(body.me.userId, USERS.callCentre);
      assert.equal(body.me.authMethod, 'password');
      const who = await me(sessionOf(res));
      assert.equal(who.statusCode, 200, who.body);
      assert.equal(who.json<{ authMethod: string }>().authMethod, 'password');

      assertLoginFailed(await login({ userId: USERS.callCentre, password: PASSWORD, code }), 'the same code replayed');
      now = new Date(now.getTime() + 10_000); // later in the same step: still the same code, still used up
      assertLoginFailed(await login({ userId: USERS.callCentre, password: PASSWORD, code }), 'the same code replayed later in its step');
    });

    test('every kind of wrong gets the same 401 and message', async () => {
      now = stepAt(10);
      const code = (u: string) => codeAt(secret(u), now);
      const wrongCode = String((Number(code(USERS.callCentre)) + 1) % 1_000_000).padStart(6, '0');
      assertLoginFailed(await login({ userId: USERS.callCentre, password: `${PASSWORD}!`, code: code(USERS.callCentre) }), 'wrong password');
      assertLoginFailed(await login({ userId: USERS.callCentre, password: PASSWORD, code: wrongCode }), 'wrong code');
      assertLoginFailed(await login({ userId: USERS.callCentre, password: PASSWORD, code: 'abcdef' }), 'malformed code');
      assertLoginFailed(await login({ userId: USERS.retail, password: PASSWORD, code: code(USERS.callCentre) }), 'no TOTP enrolled');
      assertLoginFailed(await login({ userId: USERS.admin2, password: PASSWORD, code: code(USERS.admin2) }), 'disabled account');
      assertLoginFailed(await login({ userId: USERS.serviceCentre, password: PASSWORD, code: code(USERS.callCentre) }), 'no password set');
      assertLoginFailed(await login({ userId: 'u-nobody', password: PASSWORD, code: code(USERS.callCentre) }), 'unknown user');
      // A wrong password does not use up the step: the right one still logs in with that code.
      assert.equal((await login({ userId: USERS.callCentre, password: PASSWORD, code: code(USERS.callCentre) })).statusCode, 201);
      // The client saw one message; the governance log has the reason of each, as evidence.
      const { rows } = await w.db.query<{ subject_id: string; rule: string; occurred_at: Date }>(
        `SELECT subject_id, rule, occurred_at FROM governance_events WHERE action = 'session.login' AND outcome = 'refused' AND occurred_at = $1 ORDER BY id`,
        [now],
      );
      assert.deepEqual(
        rows.map((r) => [r.subject_id, r.rule]),
        [
          [USERS.callCentre, 'wrong_password'],
          [USERS.callCentre, 'wrong_code'],
          [USERS.callCentre, 'wrong_code'],
          [USERS.retail, 'totp_not_enrolled'],
          [USERS.admin2, 'disabled_account'],
          [USERS.serviceCentre, 'no_password'],
          ['u-nobody', 'unknown_account'],
        ],
      );
    });

    test('a code from one step either side is accepted, from two steps ago refused; an earlier step after a later one is refused', async () => {
      now = stepAt(20);
      const s = secret(USERS.mover);
      assertLoginFailed(await login({ userId: USERS.mover, password: PASSWORD, code: codeAt(s, new Date(now.getTime() - 2 * STEP)) }), 'two steps ago');
      assert.equal((await login({ userId: USERS.mover, password: PASSWORD, code: codeAt(s, new Date(now.getTime() - STEP)) })).statusCode, 201, 'one step ago');
      assert.equal(
        (await login({ userId: USERS.mover, password: PASSWORD, code: codeAt(s, new Date(now.getTime() + STEP)) })).statusCode,
        201,
        'one step ahead',
      );
      assertLoginFailed(await login({ userId: USERS.mover, password: PASSWORD, code: codeAt(s, now) }), 'the current step after the next one was used');
    });

    test('a code as people type it: full-width digits and a space in the middle', async () => {
      now = stepAt(30);
      const code = codeAt(secret(USERS.mover), now);
      const typed = `${code.slice(0, 3)} ${code.slice(3)}`.replace(/[0-9]/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0));
      const res = await login({ userId: USERS.mover, password: PASSWORD, code: typed });
      assert.equal(res.statusCode, 201, res.body);
    });

    test('two concurrent logins with the same code: exactly one succeeds', async () => {
      const at = stepAt(40);
      const code = codeAt(secret(USERS.mover), at);
      const results = await Promise.all([1, 2, 3].map(() => verifyLogin(w.db, USERS.mover, PASSWORD, code, at)));
      assert.equal(results.filter((r) => r.ok).length, 1, JSON.stringify(results));
      assert.deepEqual(
        results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.reason)),
        ['code_replayed', 'code_replayed'],
      );
    });

    test('internal reasons (for the log) tell the cases apart', async () => {
      const at = stepAt(50);
      const code = codeAt(secret(USERS.callCentre), at);
      const reason = async (u: string, p: string) => {
        const r = await verifyLogin(w.db, u, p, code, at);
        return r.ok ? 'ok' : r.reason;
      };
      assert.equal(await reason('u-nobody', PASSWORD), 'unknown_account');
      assert.equal(await reason(USERS.serviceCentre, PASSWORD), 'no_password');
      assert.equal(await reason(USERS.admin2, PASSWORD), 'disabled_account');
      assert.equal(await reason(USERS.retail, PASSWORD), 'totp_not_enrolled');
      assert.equal(await reason(USERS.callCentre, 'not the password'), 'wrong_password');
      assert.equal(await reason(USERS.callCentre, PASSWORD), 'ok');
      assert.equal(await reason(USERS.callCentre, PASSWORD), 'code_replayed');
    });

    test('with a key the TOTP secret is sealed (AES-256-GCM, bound to the account); without the key it cannot be used', async () => {
      const key = randomBytes(32);
      const { secret: plain } = await enrollTotp(w.db, USERS.retail, 'gridwall', key);
      const stored =
        (await w.db.query<{ totp_secret: string }>('SELECT totp_secret FROM accounts WHERE user_id = $1', [USERS.retail])).rows[0]?.totp_secret ?? '';
      assert.match(stored, /^gcm1:/);
      assert.ok(!stored.includes(plain));
      const at = stepAt(60);
      const code = codeAt(plain, at);
      assert.deepEqual(await verifyLogin(w.db, USERS.retail, PASSWORD, code, at, null), { ok: false, reason: 'totp_key_missing' });
      assert.deepEqual(await verifyLogin(w.db, USERS.retail, PASSWORD, code, at, randomBytes(32)), { ok: false, reason: 'totp_key_missing' });
      // Copied to another account, the sealed secret does not open (the user ID is authenticated data).
      await w.db.query('UPDATE accounts SET totp_secret = $2 WHERE user_id = $1', [USERS.mover, stored]);
      assert.deepEqual(await verifyLogin(w.db, USERS.mover, PASSWORD, code, at, key), { ok: false, reason: 'totp_key_missing' });
      assert.deepEqual(await verifyLogin(w.db, USERS.retail, PASSWORD, code, at, key), { ok: true });
    });

    test('logout everywhere ends every session of the person, opened separately', async () => {
      now = stepAt(70);
      const first = await login({ userId: USERS.callCentre, password: PASSWORD, code: codeAt(secret(USERS.callCentre), now) });
      assert.equal(first.statusCode, 201, first.body);
      now = stepAt(71);
      const second = await login({ userId: USERS.callCentre, password: PASSWORD, code: codeAt(secret(USERS.callCentre), now) });
      assert.equal(second.statusCode, 201, second.body);
      const a = sessionOf(first);
      const b = sessionOf(second);
      assert.notEqual(a.cookie, b.cookie);
      assert.equal((await me(a)).statusCode, 200);
      assert.equal((await me(b)).statusCode, 200);

      const noCsrf = await w.app.inject({ method: 'POST', url: '/api/session/logout-everywhere', headers: { cookie: a.cookie } });
      assert.equal(noCsrf.statusCode, 403, 'a state change needs the CSRF token');
      const out = await w.app.inject({ method: 'POST', url: '/api/session/logout-everywhere', headers: { cookie: a.cookie, 'x-csrf-token': a.csrf } });
      assert.equal(out.statusCode, 204, out.body);
      assert.ok(
        out.cookies.some((c) => c.name === 'gw_session' && c.value === ''),
        'the cookie is cleared',
      );
      assert.equal((await me(a)).statusCode, 401);
      assert.equal((await me(b)).statusCode, 401);
      assert.equal((await w.app.inject({ method: 'POST', url: '/api/session/logout-everywhere' })).statusCode, 401, 'needs a session');
    });

    test('the login is rate-limited per client address: 429 after N attempts', async () => {
      const limited = await testApp(w.db, { now: () => now, loginRateLimit: 3 });
      try {
        const attempt = () =>
          // A user ID and an address of its own: the counts are kept in the store, shared with every app on it (issue 21).
          limited.inject({
            method: 'POST',
            url: '/api/session/password',
            remoteAddress: '192.0.2.77',
            payload: { userId: 'u-rate-probe', password: 'wrong password!', code: '000000' },
          });
        for (let i = 0; i < 3; i++) assertLoginFailed(await attempt(), `attempt ${i + 1}`);
        const res = await attempt();
        assert.equal(res.statusCode, 429, res.body);
        assert.equal(res.json<{ error: { code: string } }>().error.code, 'rate_limited');
      } finally {
        await limited.close();
      }
    });

    test('switched off: 404 password_login_disabled; the body is checked strictly', async () => {
      const off = await testApp(w.db, { now: () => now, passwordLogin: false });
      try {
        const res = await off.inject({
          method: 'POST',
          url: '/api/session/password',
          payload: { userId: USERS.callCentre, password: PASSWORD, code: '000000' },
        });
        assert.equal(res.statusCode, 404, res.body);
        assert.equal(res.json<{ error: { code: string } }>().error.code, 'password_login_disabled');
      } finally {
        await off.close();
      }
      const extra = await login({ userId: USERS.callCentre, password: PASSWORD, code: '000000', remember: true });
      assert.equal(extra.statusCode, 400, extra.body);
      const missing = await login({ userId: USERS.callCentre, password: PASSWORD });
      assert.equal(missing.statusCode, 400, missing.body);
    });
  });
}

describe('gridwall accounts (command line, embedded store)', () => {
  let dir: string;
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
    const { DATABASE_URL: _ignored, GRIDWALL_NEW_PASSWORD: _none, ...rest } = process.env;
    return { ...rest, GRIDWALL_DATA_DIR: dir, ...extra };
  };
  const gridwall = (args: string[], opts: { input?: string; env?: Record<string, string> } = {}) =>
    runCli(args, { env: env(opts.env), input: opts.input ?? '' });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gridwall-accounts-cli-'));
    const db = await openEmbeddedDir(dir);
    await seedFixture(db);
    await db.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('scim-handover: --all or named (not both, not neither: exit 2); a dry run changes nothing; a named account that cannot be handed over exits 2', async () => {
    assert.equal((await gridwall(['accounts', 'scim-handover'])).status, 2);
    assert.equal((await gridwall(['accounts', 'scim-handover', 'u-nsc', '--all'])).status, 2);
    const dry = await gridwall(['accounts', 'scim-handover', '--all', '--dry-run', '--format', 'json']);
    assert.equal(dry.status, 0, dry.stderr);
    const planned = JSON.parse(dry.stdout) as { dryRun: boolean; handedOver: { userId: string }[]; skipped: { userId: string; reason: string }[] };
    assert.equal(planned.dryRun, true);
    assert.ok(
      planned.handedOver.some((h) => h.userId === 'u-nsc'),
      dry.stdout,
    );
    assert.match(planned.skipped.find((x) => x.userId === 'u-admin')?.reason ?? '', /access\.admin/);
    const again = JSON.parse((await gridwall(['accounts', 'scim-handover', '--all', '--dry-run', '--format', 'json'])).stdout) as typeof planned;
    assert.deepEqual(again.handedOver, planned.handedOver, 'the dry run changed nothing');
    const named = await gridwall(['accounts', 'scim-handover', 'u-admin', 'u-nobody']);
    assert.equal(named.status, 2, named.stderr);
    assert.match(named.stdout, /^handed over\tu-admin\t/m);
    assert.match(named.stdout, /^skipped\tu-nobody\tno account with this user ID$/m);
  });

  test('set-password from stdin or the environment; enroll-totp prints a secret that then logs in; refusals exit 2 (bad input) or 3 (a rule) naming the rule and the problem', async () => {
    const set = await gridwall(['accounts', 'set-password', USERS.callCentre], { input: `${PASSWORD}\n` });
    assert.equal(set.status, 0, set.stderr);
    assert.match(set.stderr, /password set for u-cc/);

    const weak = await gridwall(['accounts', 'set-password', USERS.retail], { input: 'short\n' });
    assert.equal(weak.status, 2, weak.stderr);
    assert.match(weak.stderr, /^gridwall: weak_password: .*at least 12 characters/m);
    const unknown = await gridwall(['accounts', 'set-password', 'u-nobody'], { env: { GRIDWALL_NEW_PASSWORD: PASSWORD } });
    assert.equal(unknown.status, 2, unknown.stderr);
    assert.match(unknown.stderr, /no account with user ID u-nobody/);
    const none = await gridwall(['accounts', 'set-password', USERS.retail]);
    assert.equal(none.status, 2, none.stderr);
    assert.match(none.stderr, /no password given/);
    const fromEnv = await gridwall(['accounts', 'set-password', USERS.retail], { env: { GRIDWALL_NEW_PASSWORD: 'another long passphrase' } });
    assert.equal(fromEnv.status, 0, fromEnv.stderr);

    const enrol = await gridwall(['accounts', 'enroll-totp', USERS.callCentre, '--issuer', 'gridwall 試験']);
    assert.equal(enrol.status, 0, enrol.stderr);
    const secret = /^secret: ([A-Z2-7]+)$/m.exec(enrol.stdout)?.[1] ?? assert.fail(enrol.stdout);
    assert.match(enrol.stdout, /^uri: otpauth:\/\/totp\/.*u-cc\?.*secret=[A-Z2-7]+/m);
    const enrolUnknown = await gridwall(['accounts', 'enroll-totp', 'u-nobody']);
    assert.equal(enrolUnknown.status, 2, enrolUnknown.stderr);
    assert.match(enrolUnknown.stderr, /no account with user ID u-nobody/);

    const db = await openPglite(dir);
    try {
      const at = new Date();
      assert.deepEqual(await verifyLogin(db, USERS.callCentre, PASSWORD, codeAt(secret, at), at), { ok: true });
      const retail = await verifyLogin(db, USERS.retail, 'another long passphrase', '000000', at);
      assert.deepEqual(retail, { ok: false, reason: 'totp_not_enrolled' }, 'the password from the environment was set');
      await db.query('UPDATE accounts SET disabled_at = $2 WHERE user_id = $1', [USERS.retail, at]);
    } finally {
      await db.close();
    }
    // A disabled account is refused by a rule, not mistyped: exit 3, the rule named.
    const disabled = await gridwall(['accounts', 'set-password', USERS.retail], { env: { GRIDWALL_NEW_PASSWORD: PASSWORD } });
    assert.equal(disabled.status, 3, disabled.stderr);
    assert.match(disabled.stderr, /^gridwall: disabled_account: account u-retail is disabled$/m);
  });
});
