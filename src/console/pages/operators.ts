// Console operators: everyone sees who has access and the log of actions; admins create
// operators, reset passwords (which also lifts a lock-out) and disable accounts.
import type { FastifyRequest } from 'fastify';
import type { ConsolePage } from '../index.ts';
import { html, formatTime, type Html } from '../../html.ts';
import { CONSOLE, csrfField, formField, layout, mayPerform, queryString, redirectWithNotice, sendPage } from '../page.ts';
import { isOperatorRole, OPERATOR_ROLES, PASSWORD_LENGTH_MIN } from '../../domain/operators.ts';
import { listOperatorActions, listOperators, type OperatorRow } from '../../store/operators.ts';
import { changeOwnPassword, createOperator, disableOperatorAccount, performOperatorAction, resetOperatorPassword } from '../../services/operators.ts';
import { PaycenterError } from '../../domain/errors.ts';
import { badge, cursorNumber, noteField, orderLink, pageOf, PAGE_SIZE, pager } from './parts.ts';

const OPERATORS = `${CONSOLE}/operators`;

function operatorPath(id: string): string {
  return `${OPERATORS}/${encodeURIComponent(id)}`;
}

function passwordField(id: string, label: string): Html {
  return html`<label for="${id}">${label}</label>
<input id="${id}" name="password" type="password" autocomplete="new-password" required minlength="${PASSWORD_LENGTH_MIN}" aria-describedby="${id}-hint">
<p class="muted" id="${id}-hint">At least ${PASSWORD_LENGTH_MIN} characters, not containing the username.</p>`;
}

function operatorRow(req: FastifyRequest, o: OperatorRow, now: Date, admin: boolean): Html {
  const locked = o.lockedUntil && o.lockedUntil > now;
  const self = o.id === req.operator?.operatorId;
  return html`<tr><td>${o.username}${self ? html` <span class="muted">(you)</span>` : ''}</td><td>${o.role}</td>
<td>${locked ? html`${badge('bad')} until ${formatTime(o.lockedUntil)}` : ''}</td>
<td>${o.disabledAt ? html`${badge('bad')} ${formatTime(o.disabledAt)}` : ''}</td><td>${formatTime(o.createdAt)}</td>
${admin
  ? html`<td>${o.disabledAt
      ? ''
      : html`<details><summary>Reset password <span class="visually-hidden">of ${o.username}</span></summary>
<form class="stack" method="post" action="${operatorPath(o.id)}/reset-password">${csrfField(req)}
${passwordField(`reset-password-${o.id}`, 'New password')}
${noteField(`reset-note-${o.id}`)}
<p><button type="submit">Reset password <span class="visually-hidden">of ${o.username}</span></button></p></form></details>
${self
  ? ''
  : html`<details><summary>Disable <span class="visually-hidden">${o.username}</span></summary>
<form class="stack" method="post" action="${operatorPath(o.id)}/disable">${csrfField(req)}
${noteField(`disable-note-${o.id}`)}
<p><button class="danger" type="submit">Disable <span class="visually-hidden">${o.username}</span></button></p></form></details>`}`}</td>`
  : ''}</tr>`;
}

export const operatorsPage: ConsolePage = (app, { ctx }) => {
  app.get(OPERATORS, async (req, reply) => {
    const admin = mayPerform(req, 'create_operator');
    const operators = await listOperators(ctx.pool);
    const before = cursorNumber(req, 'before');
    const { rows: actions, more } = pageOf(await listOperatorActions(ctx.pool, PAGE_SIZE + 1, before === null ? undefined : String(before)));
    const now = ctx.now();
    const body = html`<details class="card"><summary>Change your password</summary>
<form class="stack" method="post" action="${OPERATORS}/me/password">${csrfField(req)}
<label for="current-password">Current password</label>
<input id="current-password" name="current" type="password" autocomplete="current-password" required>
${passwordField('my-password', 'New password')}
<p><button type="submit">Change password</button> <span class="muted">You will sign in again.</span></p>
</form></details>
${admin
      ? html`<details class="card"><summary>Create an operator</summary>
<form class="stack" method="post" action="${OPERATORS}">${csrfField(req)}
<label for="new-username">Username</label>
<input id="new-username" name="username" required autocomplete="off" aria-describedby="new-username-hint">
<p class="muted" id="new-username-hint">2–63 lower-case letters, digits, dots, dashes or underscores.</p>
<label for="new-role">Role</label>
<select id="new-role" name="role">${OPERATOR_ROLES.map((r) => html`<option${r === 'viewer' ? html` selected` : ''}>${r}</option>`)}</select>
<p class="muted">viewer: reads everything; operator: also queries, closes, refunds and redelivers; admin: also manages apps and operators.</p>
${passwordField('new-password', 'Initial password')}
${noteField('create-operator-note')}
<p><button type="submit">Create operator</button></p>
</form></details>`
      : ''}
<div class="table-wrap"><table>
<thead><tr><th scope="col">Username</th><th scope="col">Role</th><th scope="col">Locked</th><th scope="col">Disabled</th><th scope="col">Created</th>${admin ? html`<th scope="col">Actions</th>` : ''}</tr></thead>
<tbody>${operators.map((o) => operatorRow(req, o, now, admin))}</tbody></table></div>
<h2 id="actions">Recent operator actions</h2>
${actions.length === 0
  ? html`<p class="muted">No action yet.</p>`
  : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Order</th><th scope="col">Target</th><th scope="col">Note</th><th scope="col">Outcome</th></tr></thead>
<tbody>${actions.map(
      (a) => html`<tr><td>${formatTime(a.at)}</td><td>${a.username}</td><td>${a.action}</td><td>${a.orderId ? orderLink(a.orderId) : ''}</td>
<td class="mono">${a.target ?? ''}</td><td>${a.note}</td><td>${a.outcome === null ? html`<span class="muted">running or cut short</span>` : badge(a.outcome === 'done' ? 'ok' : 'bad')} ${a.outcome ?? ''}</td></tr>`,
    )}</tbody></table></div>`}
${pager(OPERATORS, {}, { name: 'before', current: queryString(req, 'before'), next: more ? actions.at(-1)!.id : null })}`;
    return sendPage(reply, layout(req, { title: 'Operators', current: 'operators', body }));
  });

  app.post(OPERATORS, async (req, reply) => {
    const username = formField(req, 'username').trim();
    const role = formField(req, 'role');
    await performOperatorAction(ctx, req.operator!, 'create_operator', { target: username, note: formField(req, 'note') }, () => {
      if (!isOperatorRole(role)) throw new PaycenterError('invalid_request', `role: one of ${OPERATOR_ROLES.join(', ')}.`, { field: 'role' });
      return createOperator(ctx.pool, { username, role, password: formField(req, 'password') });
    });
    return redirectWithNotice(reply, OPERATORS, `Operator ${username} (${role}) created. Give them the initial password by another channel than this one.`);
  });

  app.post(`${OPERATORS}/me/password`, async (req, reply) => {
    await changeOwnPassword(ctx, req.operator!.operatorId, formField(req, 'current'), formField(req, 'password'));
    req.log.info({ operator: req.operator!.username }, 'console password changed');
    return redirectWithNotice(reply, `${CONSOLE}/sign-in`, 'Password changed: sign in with the new one.');
  });

  app.post<{ Params: { id: string } }>(`${OPERATORS}/:id/reset-password`, async (req, reply) => {
    const operator = await performOperatorAction(ctx, req.operator!, 'reset_operator_password', { target: req.params.id, note: formField(req, 'note') }, () =>
      resetOperatorPassword(ctx.pool, req.params.id, formField(req, 'password')),
    );
    return redirectWithNotice(reply, OPERATORS, `Password of ${operator.username} reset: their sessions ended and any lock-out is lifted.`);
  });

  app.post<{ Params: { id: string } }>(`${OPERATORS}/:id/disable`, async (req, reply) => {
    const operator = await performOperatorAction(ctx, req.operator!, 'disable_operator', { target: req.params.id, note: formField(req, 'note') }, () =>
      disableOperatorAccount(ctx.pool, req.operator!.operatorId, req.params.id),
    );
    return redirectWithNotice(reply, OPERATORS, `Operator ${operator.username} disabled and signed out.`);
  });
};
