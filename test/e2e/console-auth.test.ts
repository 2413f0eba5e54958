// Console sign-in over HTTP against a real Paycenter: the first admin, session cookies, CSRF on
// sign-in and on every state-changing request, expiry, sign-out and disabled operators.
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startPaycenter } from '../../src/runtime/start.ts';
import { createOperator, signIn } from '../../src/services/operators.ts';
import type { PaycenterError } from '../../src/domain/errors.ts';
import { disableOperator } from '../../src/store/operators.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { FAST_ENV, paycenterPerFile, TEST_ADMIN_PASSWORD } from '../helpers/paycenter.ts';
import { csrfOf, signInConsole } from '../helpers/console-client.ts';

const pc = paycenterPerFile();

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
  redirect: 'manual' as const,
});

async function signInForm(baseUrl: string) {
  const res = await fetch(`${baseUrl}/console/sign-in`);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('pc_signin='))!.split(';')[0]!;
  return { cookie, csrf: csrfOf(await res.text()) };
}

async function postSignIn(baseUrl: string, fields: Record<string, string>, cookie?: string) {
  const init = form(fields);
  return fetch(`${baseUrl}/console/sign-in`, { ...init, headers: { ...init.headers, ...(cookie ? { cookie } : {}) } });
}

const sessionCount = async () => Number((await pc.db.pool.query('SELECT count(*) AS n FROM operator_sessions')).rows[0].n);

describe('the first admin', () => {
  const db = createTestDatabase();
  afterAll(async () => (await db).drop());

  it('gets a generated password printed once, stored only as a scrypt hash', async () => {
    const { url, pool } = await db;
    const config = resolveConfig({}, { ...FAST_ENV, PAYCENTER_ADMIN_PASSWORD: '', DATABASE_URL: url });
    const first = await startPaycenter(config, createLogger('silent'));
    try {
      const password = first.firstAdmin?.generatedPassword;
      expect(first.firstAdmin?.username).toBe('admin');
      expect(password).toMatch(/^[\w-]{20}$/);
      const stored = (await pool.query("SELECT password_hash FROM operators WHERE username = 'admin'")).rows[0].password_hash;
      expect(stored).toMatch(/^scrypt\$32768\$8\$1\$/);
      expect(stored).not.toContain(password);
      await signInConsole(first.baseUrl, 'admin', password);
    } finally {
      await first.stop();
    }
    const second = await startPaycenter(config, createLogger('silent'));
    try {
      expect(second.firstAdmin).toBeUndefined();
      expect(Number((await pool.query('SELECT count(*) AS n FROM operators')).rows[0].n)).toBe(1);
    } finally {
      await second.stop();
    }
  });

  it('refuses a weak PAYCENTER_ADMIN_PASSWORD at start-up', () => {
    expect(() => resolveConfig({}, { ...FAST_ENV, PAYCENTER_ADMIN_PASSWORD: 'short' })).toThrow(/PAYCENTER_ADMIN_PASSWORD.*at least 12/);
  });
});

describe('sign-in', () => {
  it('sets an HttpOnly, SameSite=Strict session cookie that expires', async () => {
    const { cookie, csrf } = await signInForm(pc.baseUrl);
    const res = await postSignIn(pc.baseUrl, { _csrf: csrf, username: 'admin', password: TEST_ADMIN_PASSWORD }, cookie);
    expect(res.status).toBe(303);
    const session = res.headers.getSetCookie().find((c) => c.startsWith('pc_console='))!;
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Strict/);
    expect(session).toMatch(/; Max-Age=28800/);
    expect(session).not.toMatch(/Secure/);
  });

  it('says the same for an unknown user and a wrong password, and makes no session', async () => {
    const before = await sessionCount();
    for (const [username, password] of [
      ['nobody', TEST_ADMIN_PASSWORD],
      ['admin', 'not-the-password-at-all'],
    ]) {
      const { cookie, csrf } = await signInForm(pc.baseUrl);
      const res = await postSignIn(pc.baseUrl, { _csrf: csrf, username: username!, password: password! }, cookie);
      expect(res.status).toBe(401);
      expect(await res.text()).toContain('Wrong username or password. (signin_failed)');
    }
    expect(await sessionCount()).toBe(before);
  });

  it('refuses a sign-in form without its CSRF cookie or with another token', async () => {
    const { cookie, csrf } = await signInForm(pc.baseUrl);
    const fields = { username: 'admin', password: TEST_ADMIN_PASSWORD };
    const noCookie = await postSignIn(pc.baseUrl, { _csrf: csrf, ...fields });
    const wrongToken = await postSignIn(pc.baseUrl, { _csrf: 'x'.repeat(32), ...fields }, cookie);
    for (const res of [noCookie, wrongToken]) {
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('csrf_refused');
    }
  });

  it('counts guesses sent in parallel one by one: the lock-out holds, and sign-ins beyond the hashing queue are turned away', async () => {
    await createOperator(pc.db.pool, { username: 'parallel-target', role: 'viewer', password: 'the-real-password' });
    const codes = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        signIn(pc.running.ctx, 'parallel-target', `guess-number-${i}`).then(
          () => 'signed in',
          (err: PaycenterError) => err.code,
        ),
      ),
    );
    const count = (code: string) => codes.filter((c) => c === code).length;
    // Two hashes run and 32 wait; the rest are turned away at once.
    expect(count('signin_busy')).toBeGreaterThan(0);
    expect(count('signin_failed')).toBe(4);
    expect(count('signin_failed') + count('signin_locked') + count('signin_busy')).toBe(100);
    await expect(signIn(pc.running.ctx, 'parallel-target', 'the-real-password')).rejects.toMatchObject({ code: 'signin_locked' });
  });

  it('locks an operator out after five wrong passwords, even for the right one', async () => {
    await createOperator(pc.db.pool, { username: 'mallory-target', role: 'viewer', password: 'a-long-enough-password' });
    for (let i = 0; i < 5; i++) {
      const { cookie, csrf } = await signInForm(pc.baseUrl);
      const res = await postSignIn(pc.baseUrl, { _csrf: csrf, username: 'mallory-target', password: `guess-number-${i}` }, cookie);
      expect(res.status).toBe(i < 4 ? 401 : 429);
    }
    const { cookie, csrf } = await signInForm(pc.baseUrl);
    const right = await postSignIn(pc.baseUrl, { _csrf: csrf, username: 'mallory-target', password: 'a-long-enough-password' }, cookie);
    expect(right.status).toBe(429);
    expect(await right.text()).toContain('signin_locked');
  });
});

describe('a session', () => {
  it('sends unsigned requests to the sign-in page', async () => {
    const res = await fetch(`${pc.baseUrl}/console/orders?state=PAID`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/sign-in?next=%2Fconsole%2Forders%3Fstate%3DPAID');
  });

  it('refuses a state-changing request without its CSRF token, with another, or from another origin', async () => {
    const session = await signInConsole(pc.baseUrl);
    const post = (headers: Record<string, string>, fields: Record<string, string>) =>
      fetch(`${pc.baseUrl}/console/sign-out`, { ...form(fields), headers: { ...form(fields).headers, cookie: session.cookie, ...headers } });
    for (const res of [
      await post({}, {}),
      await post({}, { _csrf: 'not-the-token' }),
      await post({ origin: 'http://evil.example' }, { _csrf: session.csrfToken }),
    ]) {
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('csrf_refused');
    }
    // Still signed in: none of them signed out.
    expect((await session.get('/console')).status).toBe(200);
  });

  it('ends at sign-out, at expiry, and when the operator is disabled', async () => {
    const signedOut = await signInConsole(pc.baseUrl);
    expect((await signedOut.post('/console/sign-out', {})).status).toBe(303);
    expect((await signedOut.get('/console')).status).toBe(303);

    const expired = await signInConsole(pc.baseUrl);
    await pc.db.pool.query("UPDATE operator_sessions SET expires_at = now() - interval '1 second'");
    expect((await expired.get('/console')).status).toBe(303);

    const { id } = await createOperator(pc.db.pool, { username: 'leaver', role: 'operator', password: 'a-long-enough-password' });
    const leaver = await signInConsole(pc.baseUrl, 'leaver', 'a-long-enough-password');
    await disableOperator(pc.db.pool, id);
    expect((await leaver.get('/console')).status).toBe(303);
  });

  it('changes its own password only with the current one, and must sign in again', async () => {
    await createOperator(pc.db.pool, { username: 'changer', role: 'viewer', password: 'the-first-password' });
    const session = await signInConsole(pc.baseUrl, 'changer', 'the-first-password');
    const wrong = await session.post('/console/operators/me/password', { current: 'not-the-password', password: 'the-second-password' });
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain('The current password is wrong');
    const weak = await session.post('/console/operators/me/password', { current: 'the-first-password', password: 'short' });
    expect(weak.status).toBe(400);
    const changed = await session.post('/console/operators/me/password', { current: 'the-first-password', password: 'the-second-password' });
    expect(changed.status).toBe(303);
    expect(changed.location).toMatch(/^\/console\/sign-in\?notice=/);
    expect((await session.get('/console')).status).toBe(303);
    await expect(signInConsole(pc.baseUrl, 'changer', 'the-first-password')).rejects.toThrow(/401/);
    await signInConsole(pc.baseUrl, 'changer', 'the-second-password');
  });
});
