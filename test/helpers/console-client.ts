// A console session over plain HTTP, as a browser without JavaScript would hold it: the cookie,
// the CSRF token read off each page, forms posted as application/x-www-form-urlencoded.
import { TEST_ADMIN_PASSWORD } from './paycenter.ts';

export interface ConsolePage {
  status: number;
  location: string | null;
  html: string;
}

export interface ConsoleClient {
  /** GET a console path (redirects are not followed: `location` tells where). */
  get(path: string): Promise<ConsolePage>;
  /** POST a form with the session's CSRF token (unless `_csrf` is given). */
  post(path: string, form: Record<string, string>): Promise<ConsolePage>;
  csrfToken: string;
  cookie: string;
}

async function fetchPage(baseUrl: string, path: string, init: RequestInit & { cookie?: string }): Promise<ConsolePage & { setCookie: string[] }> {
  const headers = new Headers(init.headers);
  if (init.cookie) headers.set('cookie', init.cookie);
  const res = await fetch(baseUrl + path, { ...init, headers, redirect: 'manual' });
  return { status: res.status, location: res.headers.get('location'), html: await res.text(), setCookie: res.headers.getSetCookie() };
}

const cookiePair = (setCookie: string[], name: string) => setCookie.find((c) => c.startsWith(`${name}=`))?.split(';')[0];

export function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF field on the page');
  return m[1]!;
}

/** Signs in (the first admin by default) and returns the session. */
export async function signInConsole(baseUrl: string, username = 'admin', password = TEST_ADMIN_PASSWORD): Promise<ConsoleClient> {
  const form = await fetchPage(baseUrl, '/console/sign-in', {});
  const signinCookie = cookiePair(form.setCookie, 'pc_signin')!;
  const res = await fetchPage(baseUrl, '/console/sign-in', {
    method: 'POST',
    cookie: signinCookie,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrfOf(form.html), username, password, next: '/console' }).toString(),
  });
  const session = cookiePair(res.setCookie, 'pc_console');
  if (res.status !== 303 || !session) throw new Error(`sign-in as ${username} failed: ${res.status} ${res.html.slice(0, 300)}`);
  const dashboard = await fetchPage(baseUrl, '/console', { cookie: session });
  const client: ConsoleClient = {
    cookie: session,
    csrfToken: csrfOf(dashboard.html),
    get: (path) => fetchPage(baseUrl, path, { cookie: session }),
    post: (path, fields) =>
      fetchPage(baseUrl, path, {
        method: 'POST',
        cookie: session,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: client.csrfToken, ...fields }).toString(),
      }),
  };
  return client;
}
