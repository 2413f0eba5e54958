// The buyer's side of a payment in the sandbox, as tests and the chaos workload play it: open
// what the pay action says — the QR code is scanned by /sandbox/pay itself; a redirect is followed
// to the channel's cashier (Alipay page pay); a form is submitted to the gateway (UnionPay) — and
// then pay at the bank. Opening the cashier is what creates the trade at those channels.
import type { PayAction } from '../channels/types.ts';

const BUYER_TIMEOUT_MS = 15_000;

export interface BuyerAnswer {
  status: number;
  body: unknown;
}

/** Opens the cashier for a redirect or form action (nothing to open for a QR code); returns its HTTP status. */
export async function openCashier(action: PayAction): Promise<number | undefined> {
  switch (action.type) {
    case 'qr_code':
      return undefined;
    case 'redirect': {
      const res = await fetch(action.url, { signal: AbortSignal.timeout(BUYER_TIMEOUT_MS) });
      await res.arrayBuffer();
      return res.status;
    }
    case 'form_post': {
      const res = await fetch(action.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(action.fields).toString(),
        signal: AbortSignal.timeout(BUYER_TIMEOUT_MS),
      });
      await res.arrayBuffer();
      return res.status;
    }
  }
}

/** The buyer pays the trade at the sandbox bank (control API), after opening its cashier. */
export async function buyerPays(sandboxUrl: string, payment: { outTradeNo: string; action: PayAction | null }): Promise<BuyerAnswer> {
  if (payment.action) await openCashier(payment.action);
  const res = await fetch(`${sandboxUrl}/sandbox/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ outTradeNo: payment.outTradeNo }),
    signal: AbortSignal.timeout(BUYER_TIMEOUT_MS),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: kept as text.
  }
  return { status: res.status, body };
}
