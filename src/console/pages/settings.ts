// The effective configuration, as resolved at start-up: every key, secrets masked.
import type { ConsolePage } from '../index.ts';
import { html } from '../../html.ts';
import { CONSOLE, layout, sendPage } from '../page.ts';
import { settingsView } from '../../domain/settings-view.ts';

export const settingsPage: ConsolePage = (app, { config }) => {
  // Resolved once at start-up: the page shows what this process runs with.
  const lines = settingsView(config);
  app.get(`${CONSOLE}/settings`, async (req, reply) => {
    const body = html`<p class="muted">What this process runs with (config file and environment, resolved at start-up).
Secrets are never shown: keys, passwords, certificates and the passwords inside URLs are masked. A change takes effect at the next start.</p>
<div class="table-wrap"><table>
<thead><tr><th scope="col">Setting</th><th scope="col">Value</th></tr></thead>
<tbody>${lines.map((l) => html`<tr><td class="mono">${l.key}</td><td${l.masked ? html` class="muted"` : ''}><span class="mono">${l.value}</span></td></tr>`)}</tbody>
</table></div>`;
    return sendPage(reply, layout(req, { title: 'Settings', current: 'settings', body }));
  });
};
