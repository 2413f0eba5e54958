// The dashboard: what needs an operator's eyes now.
import type { ConsolePage } from '../index.ts';
import { html } from '../html.ts';
import { CONSOLE, layout, sendPage } from '../page.ts';

export const dashboardPage: ConsolePage = (app) => {
  app.get(CONSOLE, async (req, reply) => sendPage(reply, layout(req, { title: 'Dashboard', current: 'dashboard', body: html`<p>Coming.</p>` })));
};
