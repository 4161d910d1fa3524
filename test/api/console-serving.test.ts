import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ConsoleNotBuiltError } from '../../src/api/console.ts';
import { SUPPLY_POINT_FIELD_KEYS, SUPPLY_POINT_FIELDS } from '../../src/domain/classification.ts';
import { MASK_REASONS } from '../../src/domain/decision.ts';
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { login, testApp } from '../support/app.ts';
import { USERS, seedFixture } from '../support/fixture.ts';

describe('the console is served by the API server', () => {
  let db: Db;
  let app: FastifyInstance;
  let dir: string;
  before(async () => {
    db = await openPglite(null);
    await migrate(db);
    await seedFixture(db);
    // A stand-in build: what is tested here is the serving, not the page (the browser suite tests that).
    dir = mkdtempSync(join(tmpdir(), 'gridwall-console-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(join(dir, 'assets', 'app-abc123.js'), 'console.log(1)');
    app = await testApp(db, { consoleDir: dir });
  });
  after(async () => {
    await app.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the console’s own paths get its page, uncached; hashed assets are cached for good', async () => {
    for (const url of ['/', '/search?by=address&q=x', '/records/0200000000000000000011?purpose=customer_inquiry', '/checklist']) {
      const res = await app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
      assert.equal(res.statusCode, 200, url);
      assert.match(res.body, /<title>console<\/title>/, url);
      assert.equal(res.headers['cache-control'], 'no-cache', url);
    }
    const asset = await app.inject({ method: 'GET', url: '/assets/app-abc123.js' });
    assert.equal(asset.statusCode, 200);
    assert.match(String(asset.headers['cache-control']), /immutable/);
  });

  test('unknown API paths stay JSON 404s, even for a browser', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/nothing-here', headers: { accept: 'text/html,application/json' } });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json<{ error: { code: string } }>().error.code, 'not_found');
  });

  test('the vocabulary labels every field of the manifest and every mask reason, in both languages', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/vocabulary' });
    assert.equal(res.statusCode, 200);
    const v = res.json<{ fields: { key: string; class: string; ja: string; en: string }[]; reasons: Record<string, { ja: string; en: string }> }>();
    assert.deepEqual(
      v.fields.map((f) => f.key),
      [...SUPPLY_POINT_FIELD_KEYS],
    );
    for (const f of v.fields) assert.equal(f.class, SUPPLY_POINT_FIELDS[f.key as keyof typeof SUPPLY_POINT_FIELDS].class);
    for (const r of [...MASK_REASONS, 'not_own_customer']) assert.ok(v.reasons[r]?.ja && v.reasons[r]?.en, r);
  });

  test('/api/me gives a reloaded page the CSRF token of its own session', async () => {
    const s = await login(app, USERS.retail);
    const me = await app.inject({ method: 'GET', url: '/api/me', headers: { cookie: s.cookie } });
    assert.equal(me.json<{ csrfToken: string }>().csrfToken, s.csrf);
  });

  test('a server pointed at a console that was never built refuses to start, saying how to build it', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'gridwall-nobuild-'));
    try {
      await assert.rejects(testApp(db, { consoleDir: empty }), (e: unknown) => e instanceof ConsoleNotBuiltError && /npm run build/.test(e.message));
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
