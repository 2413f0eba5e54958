// Alipay's daily trade bill as docs/refunds-and-bills.md fixes it: a ZIP of two GBK CSV files,
// {pid}_{yyyyMMdd}_业务明细.csv (one line per payment or succeeded refund, between `#` comment
// lines) and {pid}_{yyyyMMdd}_业务明细(汇总).csv (the day's totals). Like Alipay's own files, the
// long numbers are followed by a tab (so spreadsheets keep them as text); readers trim values.
import { zipSync } from 'fflate';
import iconv from 'iconv-lite';
import type { SandboxBillLine } from '../bill-plants.ts';
import { formatBeijingTime, formatYuan } from './wire-format.ts';

const DETAIL_HEADER = [
  '支付宝交易号', '商户订单号', '业务类型', '商品名称', '创建时间', '完成时间', '门店编号', '门店名称', '操作员', '终端号',
  '对方账户', '订单金额（元）', '商家实收（元）', '支付宝红包（元）', '集分宝（元）', '支付宝优惠（元）', '商家优惠（元）',
  '券核销金额（元）', '券名称', '商家红包消费金额（元）', '卡消费金额（元）', '退款批次号/请求号', '服务费（元）', '分润（元）', '备注',
];
const SUMMARY_HEADER = [
  '门店编号', '门店名称', '交易订单总笔数', '退款订单总笔数', '订单金额（元）', '商家实收（元）', '支付宝优惠（元）', '商家优惠（元）',
  '卡消费金额（元）', '服务费（元）', '分润（元）', '实收净额（元）',
];
const DETAIL_START = '#-----------------------------------------业务明细列表----------------------------------------';
const DETAIL_END = '#-----------------------------------------业务明细列表结束------------------------------------';
const SUMMARY_START = '#-----------------------------------------业务汇总列表----------------------------------------';
const SUMMARY_END = '#-----------------------------------------业务汇总列表结束------------------------------------';
/** Windows line ends, as in the GBK files Alipay makes for spreadsheets. */
const EOL = '\r\n';
const ZERO = '0.00';

/** What the ledger knows of a trade beyond its bill line; planted lines may have none. */
export interface BillTradeDetail {
  subject: string;
  buyerLogonId: string;
  createdAt: Date;
}

export interface BillContent {
  /** The seller's Alipay user id (2088…), the `pid` in the file names. */
  pid: string;
  /** yyyy-MM-dd, Beijing. */
  billDate: string;
  dayStart: Date;
  dayEnd: Date;
  lines: SandboxBillLine[];
  details: ReadonlyMap<string, BillTradeDetail>;
  exportedAt: Date;
}

/** The ZIP bytes; only succeeded refunds appear, with negative amounts. */
export function renderAlipayBill(bill: BillContent): Uint8Array {
  const lines = bill.lines.filter((l) => l.kind === 'payment' || l.refundState === 'succeeded');
  const day = bill.billDate.replaceAll('-', '');
  const period = `#起始日期：[${chineseTime(bill.dayStart)}]   终止日期：[${chineseTime(bill.dayEnd)}]`;
  const account = `#账号：[${bill.pid}]`;
  const exported = `#导出时间：[${chineseTime(bill.exportedAt)}]`;
  const payments = lines.filter((l) => l.kind === 'payment');
  const refunds = lines.filter((l) => l.kind === 'refund');
  const netFen = sumFen(payments) - sumFen(refunds);

  const detail = [
    '#支付宝业务明细查询', account, period, DETAIL_START, DETAIL_HEADER.join(','),
    ...lines.map((l) => detailLine(l, bill.details.get(l.outTradeNo))),
    DETAIL_END,
    `#交易合计：${payments.length}笔，商家实收：${signedYuan(sumFen(payments))}元`,
    `#退款合计：${refunds.length}笔，商家实收：${signedYuan(-sumFen(refunds))}元`,
    exported,
  ];
  const summary = [
    '#支付宝业务汇总查询', account, period, SUMMARY_START, SUMMARY_HEADER.join(','),
    ['合计', '', payments.length, refunds.length, signedYuan(netFen), signedYuan(netFen), ZERO, ZERO, ZERO, ZERO, ZERO, signedYuan(netFen)].join(','),
    SUMMARY_END, exported,
  ];
  return zipSync({
    [`${bill.pid}_${day}_业务明细.csv`]: gbk(detail),
    [`${bill.pid}_${day}_业务明细(汇总).csv`]: gbk(summary),
  });
}

function detailLine(l: SandboxBillLine, trade: BillTradeDetail | undefined): string {
  const refund = l.kind === 'refund';
  const amount = signedYuan(refund ? -l.amount : l.amount);
  return [
    `${l.transactionId}\t`, `${l.outTradeNo}\t`, refund ? '退款' : '交易', csvField(trade?.subject ?? ''),
    formatBeijingTime(trade?.createdAt ?? l.at), formatBeijingTime(l.at), '', '', '', '',
    trade?.buyerLogonId ?? '', amount, amount, ZERO, ZERO, ZERO, ZERO, ZERO, '', ZERO, ZERO,
    refund ? `${l.outRefundNo ?? ''}\t` : '', ZERO, ZERO, '',
  ].join(',');
}

function sumFen(lines: SandboxBillLine[]): number {
  return lines.reduce((sum, l) => sum + l.amount, 0);
}

function signedYuan(fen: number): string {
  return fen < 0 ? `-${formatYuan(-fen)}` : formatYuan(fen);
}

/** `yyyy年MM月dd日 HH:mm:ss`, Beijing, as the comment lines write times. */
function chineseTime(at: Date): string {
  const t = formatBeijingTime(at);
  return `${t.slice(0, 4)}年${t.slice(5, 7)}月${t.slice(8, 10)}日 ${t.slice(11)}`;
}

/** A subject is the merchant's free text: kept on one line (readers split lines first), quoted when it holds a comma or quote. */
function csvField(value: string): string {
  const oneLine = value.replace(/[\r\n]+/g, ' ');
  return /[",]/.test(oneLine) ? `"${oneLine.replaceAll('"', '""')}"` : oneLine;
}

function gbk(lines: string[]): Uint8Array {
  return iconv.encode(lines.join(EOL) + EOL, 'gbk');
}
