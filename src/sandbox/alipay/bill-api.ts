// alipay.data.dataservice.bill.downloadurl.query and its download (channels.md §2.10,
// docs/refunds-and-bills.md): the day's bill is built from the ledger when the URL is asked for,
// with the planted differences applied, and kept in memory behind a token for 30 s; the download
// is a plain unsigned GET. Unlike Alipay (D−1 from ~10:00) the sandbox bills any day up to today.
import type { FastifyInstance } from 'fastify';
import { BillDownloads } from '../bill-downloads.ts';
import type { BillPlants, SandboxBillLine } from '../bill-plants.ts';
import type { FaultSwitchboard } from '../faults.ts';
import type { App } from './apps.ts';
import { renderAlipayBill, type BillTradeDetail } from './bill-file.ts';
import { parseBillRequest } from './refund-request.ts';
import { listBillRows } from './refund-store.ts';
import type { Queryable } from './store.ts';
import { business, queryFault, type ApiOutcome } from './trade-api.ts';
import { endOfBeijingDay, formatBeijingTime } from './wire-format.ts';

const BILL_DOWNLOAD_PATH = '/sandbox/alipay/downloadBillFile.resource';
/** What the download serves: the ZIP and the name Alipay gives it. */
export type AlipayBillDownloads = BillDownloads<{ bytes: Uint8Array; fileName: string }>;

export interface BillApiDeps {
  db: Queryable;
  faults: FaultSwitchboard;
  billPlants: BillPlants;
  downloads: AlipayBillDownloads;
}

export function billApi(deps: BillApiDeps) {
  const { db, faults, billPlants, downloads } = deps;
  return {
    /** `origin` is the sandbox's own scheme://host[:port] as the caller reached it, for an absolute URL. */
    async downloadUrl(app: App, biz: Record<string, unknown>, now: Date, origin: string): Promise<ApiOutcome> {
      const parsed = parseBillRequest(biz);
      if (!parsed.ok) return business('isv.invalid_arguments', `入参不合法: ${parsed.message}`);
      const fault = queryFault(faults);
      if (fault) return fault;
      const { billDate, dayStart } = parsed.value;
      if (billDate > formatBeijingTime(now).slice(0, 10)) return business('isv.invalid_arguments', `入参不合法: the bill of ${billDate} is not ready`);
      const dayEnd = endOfBeijingDay(dayStart);
      const rows = await listBillRows(db, app.appId, dayStart, dayEnd);
      const truth: SandboxBillLine[] = rows.map((r) => ({
        kind: r.outRequestNo === null ? 'payment' : 'refund',
        mchId: app.appId,
        outTradeNo: r.outTradeNo,
        transactionId: r.tradeNo,
        amount: r.amountFen,
        at: r.at,
        ...(r.outRequestNo === null ? {} : { outRefundNo: r.outRequestNo, refundState: 'succeeded' as const }),
      }));
      const lines = billPlants.apply('alipay', billDate, app.appId, truth);
      if (lines.length === 0) return business('isp.bill_not_exist', '账单不存在');
      const details = new Map<string, BillTradeDetail>(rows.map((r) => [r.outTradeNo, r]));
      const bytes = renderAlipayBill({ pid: app.sellerId, billDate, dayStart, dayEnd, lines, details, exportedAt: now });
      const day = billDate.replaceAll('-', '');
      const token = downloads.keep({ bytes, fileName: `${app.sellerId}_${day}.csv.zip` }, now.getTime());
      return { kind: 'success', fields: { bill_download_url: `${origin}${BILL_DOWNLOAD_PATH}?bizType=trade&bizDates=${day}&token=${token}` } };
    },
  };
}

export type BillApi = ReturnType<typeof billApi>;

/** GET the bill_download_url: the ZIP, unsigned; 404 once the 30 s are over. */
export function billDownloadRoutes(downloads: AlipayBillDownloads) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    app.get<{ Querystring: Record<string, unknown> }>(BILL_DOWNLOAD_PATH, async (req, reply) => {
      const { token } = req.query;
      const file = typeof token === 'string' ? downloads.find(token, Date.now()) : undefined;
      if (!file) return reply.code(404).type('text/plain; charset=utf-8').send('bill download link is unknown or expired (valid 30 s)');
      return reply
        .code(200)
        .type('application/zip')
        .header('content-disposition', `attachment; filename="${file.fileName}"`)
        .send(Buffer.from(file.bytes));
    });
  };
}
