// The trade bill file (channels.md §1.9, docs/refunds-and-bills.md): the detail header, one line
// per transaction with every value prefixed by a backtick, then the summary header and its
// backticked line. Amounts in yuan. Rendered from the day's lines after the bill plants.
import type { SandboxBillLine } from '../bill-plants.ts';
import type { TradeDetails } from './refund-store.ts';
import { formatBeijingDateTime, formatYuan } from './wire-format.ts';

export const TRADE_BILL_COLUMNS = [
  '交易时间', '公众账号ID', '商户号', '特约商户号', '设备号', '微信订单号', '商户订单号', '用户标识', '交易类型',
  '交易状态', '付款银行', '货币种类', '应结订单金额', '代金券金额', '微信退款单号', '商户退款单号', '退款金额',
  '充值券退款金额', '退款类型', '退款状态', '商品名称', '商户数据包', '手续费', '费率', '订单金额', '申请退款金额',
  '费率备注',
] as const;

const SUMMARY_COLUMNS = ['总交易单数', '应结订单总金额', '退款总金额', '充值券退款总金额', '手续费总金额', '订单总金额', '申请退款总金额'] as const;

type Column = (typeof TRADE_BILL_COLUMNS)[number];

const REFUND_STATUS: Record<NonNullable<SandboxBillLine['refundState']>, string> = {
  processing: 'PROCESSING',
  succeeded: 'SUCCESS',
  failed: 'CLOSED',
};

/** WeChat's files end lines with CR LF. */
const LINE_END = '\r\n';

/**
 * `details` are the paid trades' descriptive fields by out_trade_no (a planted line has none);
 * `appId` is the merchant's, for lines without details.
 */
export function renderTradeBill(lines: readonly SandboxBillLine[], appId: string, details: ReadonlyMap<string, TradeDetails>): string {
  const rows = lines.map((line) => detailRow(line, appId, details.get(line.outTradeNo)));
  let paidFen = 0;
  let refundFen = 0;
  for (const line of lines) {
    if (line.kind === 'payment') paidFen += line.amount;
    else refundFen += line.amount;
  }
  const summary = [String(lines.length), formatYuan(paidFen), formatYuan(refundFen), '0.00', '0.00', formatYuan(paidFen), formatYuan(refundFen)];
  const text = [
    TRADE_BILL_COLUMNS.join(','),
    ...rows.map((row) => backticked(TRADE_BILL_COLUMNS.map((column) => row[column]))),
    SUMMARY_COLUMNS.join(','),
    backticked(summary),
  ];
  return text.join(LINE_END) + LINE_END;
}

function detailRow(line: SandboxBillLine, appId: string, details: TradeDetails | undefined): Record<Column, string> {
  const refund = line.kind === 'refund';
  const amount = formatYuan(line.amount);
  return {
    交易时间: formatBeijingDateTime(line.at),
    公众账号ID: details?.appId ?? appId,
    商户号: line.mchId,
    特约商户号: '',
    设备号: '',
    微信订单号: line.transactionId,
    商户订单号: line.outTradeNo,
    用户标识: details?.payerOpenid ?? '',
    交易类型: 'NATIVE',
    交易状态: refund ? 'REFUND' : 'SUCCESS',
    付款银行: 'OTHERS',
    货币种类: 'CNY',
    应结订单金额: refund ? '0.00' : amount,
    代金券金额: '0.00',
    微信退款单号: line.refundId ?? '',
    商户退款单号: line.outRefundNo ?? '',
    退款金额: refund ? amount : '0.00',
    充值券退款金额: '0.00',
    退款类型: refund ? 'ORIGINAL' : '',
    退款状态: refund ? REFUND_STATUS[line.refundState ?? 'succeeded'] : '',
    商品名称: plainText(details?.description),
    商户数据包: plainText(details?.attach),
    手续费: '0.00',
    费率: '0.00%',
    订单金额: refund ? '0.00' : amount,
    申请退款金额: refund ? amount : '0.00',
    费率备注: '',
  };
}

function backticked(values: readonly string[]): string {
  return values.map((v) => '`' + v).join(',');
}

/** The file has no quoting: a merchant's free text loses the commas and line breaks that would split it. */
function plainText(text: string | null | undefined): string {
  return (text ?? '').replace(/[,\r\n]/g, ' ');
}
