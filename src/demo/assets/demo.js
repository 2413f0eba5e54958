// The demo shop's progressive enhancement, served from /demo/assets/demo.js (no inline script, so
// the pages work under `script-src 'self'`). Without it the forms post and the order page has a
// Refresh link; with it, every click of "Submit order" is its own request (the button is never
// disabled: Paycenter's duplicate guard is what is on show) and the order page follows the
// payment live.
'use strict';

/** How often the order page asks for news while something can still change. */
const POLL_INTERVAL_MS = 500;
/** A page left open stops asking after this; Refresh starts again. */
const POLL_DURATION_MS_MAX = 15 * 60 * 1000;

const cartForm = document.getElementById('cart');
if (cartForm) countSubmissions(cartForm);
const main = document.querySelector('main[data-status-url]');
if (main && main.dataset.settled !== 'true') followOrder(main.dataset.statusUrl);

function countSubmissions(form) {
  const section = document.getElementById('submissions');
  const summary = document.getElementById('submissions-summary');
  const answers = document.getElementById('submissions-answers');
  const next = document.getElementById('submissions-next');
  let tally = emptyTally();
  // A changed cart is another order: count its submissions afresh.
  form.addEventListener('input', () => {
    tally = emptyTally();
    section.hidden = true;
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const mine = tally;
    const n = ++mine.sent;
    show(mine);
    fetch(form.action, { method: 'POST', body: new URLSearchParams(new FormData(form)), headers: { accept: 'application/json' } })
      .then((res) => res.json().then((body) => ({ ok: res.ok, body })))
      .then(({ ok, body }) => {
        if (ok && (body.outcome === 'created' || body.outcome === 'duplicate')) {
          mine.answers.push({ n, body });
          if (body.outcome === 'created') mine.created += 1;
          else mine.duplicates += 1;
          mine.orderIds.add(body.orderId);
        } else {
          mine.answers.push({ n, error: (body.error && body.error.message) || 'refused' });
          mine.failed += 1;
        }
      })
      .catch(() => {
        mine.answers.push({ n, error: 'no answer from the shop' });
        mine.failed += 1;
      })
      .finally(() => show(mine));
  });

  function show(t) {
    if (t !== tally) return;
    section.hidden = false;
    const waiting = t.sent - t.created - t.duplicates - t.failed;
    const ids = [...t.orderIds];
    let text = `${t.sent} ${plural(t.sent, 'submission')} → ${ids.length} ${plural(ids.length, 'order')}` +
      (ids.length ? ` (${ids.join(', ')})` : '') +
      `; ${t.duplicates} recognised as ${plural(t.duplicates, 'duplicate')}`;
    if (t.failed) text += `; ${t.failed} failed`;
    if (waiting) text += ` (${waiting} still waiting for Paycenter)`;
    summary.textContent = text;
    answers.replaceChildren(
      ...t.answers
        .slice()
        .sort((a, b) => a.n - b.n)
        .map((a) => {
          const li = document.createElement('li');
          li.textContent = a.error
            ? `Click ${a.n}: ${a.error}`
            : a.body.outcome === 'created'
              ? `Click ${a.n}: Paycenter answered ${a.body.paycenterStatus}: created ${a.body.orderId}`
              : `Click ${a.n}: Paycenter answered ${a.body.paycenterStatus} ${a.body.code}: it is ${a.body.orderId}`;
          return li;
        }),
    );
    next.replaceChildren();
    if (ids.length === 1 && !waiting) {
      const link = document.createElement('a');
      link.className = 'button';
      link.href = `/demo/orders/${encodeURIComponent(ids[0])}`;
      link.textContent = 'Continue to payment';
      next.append(link);
    }
  }
}

function emptyTally() {
  return { sent: 0, created: 0, duplicates: 0, failed: 0, orderIds: new Set(), answers: [] };
}

function plural(n, word) {
  return n === 1 ? word : `${word}s`;
}

/**
 * Polls the order's status and swaps in the server-rendered fragments when they change (the same
 * HTML a reload would show), until the order is settled and the shop has heard of it.
 */
function followOrder(url) {
  const status = document.getElementById('status');
  const webhooks = document.getElementById('webhooks');
  const pay = document.getElementById('pay');
  const stopAt = Date.now() + POLL_DURATION_MS_MAX;
  // The fragments as last received: the browser's own serialization of innerHTML differs from them.
  const shown = { status: undefined, webhooks: undefined };
  const poll = () => {
    fetch(url, { headers: { accept: 'application/json' } })
      .then((res) => (res.ok ? res.json() : undefined))
      .then((body) => {
        if (!body) return false;
        // Only a change is written, so screen readers announce news, not every poll.
        if (shown.status !== body.html.status) status.innerHTML = shown.status = body.html.status;
        if (shown.webhooks !== body.html.webhooks) webhooks.innerHTML = shown.webhooks = body.html.webhooks;
        if (pay && !body.payable) pay.hidden = true;
        return body.settled;
      })
      .catch(() => false)
      .then((settled) => {
        if (settled) return;
        if (Date.now() < stopAt) setTimeout(poll, POLL_INTERVAL_MS);
        else status.insertAdjacentText('beforeend', ' Live updates paused: use Refresh.');
      });
  };
  setTimeout(poll, POLL_INTERVAL_MS);
}
