// The daily bill (channels.md §2.10, docs/refunds-and-bills.md): a signed
// alipay.data.dataservice.bill.downloadurl.query gives a short-lived URL; the ZIP behind it is not
// signed, so it is fetched only from the gateway's own origin, and read in bill-file.ts.
import { sendRequest } from '../../http/request.ts';
import { checkBillDate } from '../bill-date.ts';
import type { BillResult } from '../types.ts';
import { parseAlipayBillZip } from './bill-file.ts';
import { billDecision, classify } from './classify.ts';
import { billBizContent } from './params.ts';
import { callAlipay, type CallContext } from './transport.ts';

/** A day's trade bill of a busy merchant is a few MiB zipped; far larger is not a bill. */
export const MAX_BILL_BYTES = 64 * 1024 * 1024;

export async function fetchAlipayBill(ctx: CallContext, date: string): Promise<BillResult> {
  // No bill exists for a day that has not begun in Beijing; asking would only be refused.
  const invalid = checkBillDate(date, ctx.now());
  if (invalid) return invalid;

  const answer = classify(await callAlipay(ctx, 'alipay.data.dataservice.bill.downloadurl.query', billBizContent(date)));
  switch (billDecision(answer.category)) {
    case 'url':
      return downloadBill(ctx, answer.node?.bill_download_url, answer.reason);
    case 'empty':
      return { kind: 'bill', lines: [] };
    case 'unknown':
      return { kind: 'unknown', reason: answer.reason };
  }
}

async function downloadBill(ctx: CallContext, urlText: unknown, answerReason: string): Promise<BillResult> {
  const url = gatewayOriginUrl(ctx.gatewayUrl, urlText);
  if (!url) return { kind: 'unknown', reason: `bill_url_refused: not a URL on the gateway's origin; ${answerReason}` };
  const answer = await sendRequest(url, {
    method: 'GET',
    headers: { Accept: '*/*', 'User-Agent': ctx.userAgent },
    timeoutMs: ctx.timeoutMs,
    maxResponseBytes: MAX_BILL_BYTES,
  });
  if (answer.kind === 'timeout') return { kind: 'unknown', reason: `bill download: no answer within ${answer.timeoutMs} ms` };
  if (answer.kind === 'network_error') return { kind: 'unknown', reason: `bill download: ${answer.detail}` };
  if (answer.status !== 200) return { kind: 'unknown', reason: `bill download: status=${answer.status}` };
  return parseAlipayBillZip(answer.bytes);
}

/**
 * The download is unsigned, so the URL is the only thing vouching for it: it must point at the
 * gateway's own scheme and host, never somewhere a forged or altered answer could send us.
 */
function gatewayOriginUrl(gatewayUrl: string, urlText: unknown): URL | undefined {
  if (typeof urlText !== 'string') return undefined;
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    return undefined;
  }
  return url.origin === new URL(gatewayUrl).origin ? url : undefined;
}
