// Planted bill differences (sandbox only): a test asks the bank to misreport one day's bill, and
// checks that Paycenter's reconciliation finds it. Plants change the bill file alone, never the
// ledger, and live in this process's memory.

/** One transaction of a day's bill, before the channel renders it in its own format. */
export interface SandboxBillLine {
  kind: 'payment' | 'refund';
  mchId: string;
  outTradeNo: string;
  /** The bank's number of the payment (for a refund: of the refunded payment). */
  transactionId: string;
  outRefundNo?: string;
  /** The bank's number of the refund. */
  refundId?: string;
  /** Fen. */
  amount: number;
  /** When paid, or when the refund was accepted. */
  at: Date;
  refundState?: 'processing' | 'succeeded' | 'failed';
}

export type BillPlant =
  | { type: 'omit_payment'; outTradeNo: string }
  | { type: 'amount'; outTradeNo: string; amountMinor: number }
  | { type: 'extra_payment'; outTradeNo: string; amountMinor: number }
  | { type: 'omit_refund'; outRefundNo: string }
  | { type: 'extra_refund'; outTradeNo: string; outRefundNo: string; amountMinor: number };

export class BillPlants {
  private readonly byDay = new Map<string, BillPlant[]>();

  add(channel: string, date: string, plant: BillPlant): void {
    const key = `${channel}:${date}`;
    this.byDay.set(key, [...(this.byDay.get(key) ?? []), plant]);
  }

  clear(): void {
    this.byDay.clear();
  }

  /** The day's true lines as the planted bill shows them; `mchId` is the merchant the bill is for. */
  apply(channel: string, date: string, mchId: string, lines: SandboxBillLine[]): SandboxBillLine[] {
    let planted = lines;
    for (const plant of this.byDay.get(`${channel}:${date}`) ?? []) planted = applyPlant(planted, plant, mchId, date);
    return planted;
  }
}

function applyPlant(lines: SandboxBillLine[], plant: BillPlant, mchId: string, date: string): SandboxBillLine[] {
  const at = new Date(`${date}T12:00:00+08:00`);
  switch (plant.type) {
    case 'omit_payment':
      return lines.filter((l) => !(l.kind === 'payment' && l.outTradeNo === plant.outTradeNo));
    case 'amount':
      return lines.map((l) => (l.kind === 'payment' && l.outTradeNo === plant.outTradeNo ? { ...l, amount: plant.amountMinor } : l));
    case 'extra_payment':
      return [...lines, { kind: 'payment', mchId, outTradeNo: plant.outTradeNo, transactionId: plantedNumber(plant.outTradeNo), amount: plant.amountMinor, at }];
    case 'omit_refund':
      return lines.filter((l) => !(l.kind === 'refund' && l.outRefundNo === plant.outRefundNo));
    case 'extra_refund': {
      const paid = lines.find((l) => l.kind === 'payment' && l.outTradeNo === plant.outTradeNo);
      return [
        ...lines,
        {
          kind: 'refund',
          mchId,
          outTradeNo: plant.outTradeNo,
          transactionId: paid?.transactionId ?? plantedNumber(plant.outTradeNo),
          outRefundNo: plant.outRefundNo,
          refundId: plantedNumber(plant.outRefundNo),
          amount: plant.amountMinor,
          at,
          refundState: 'succeeded',
        },
      ];
    }
    default: {
      const impossible: never = plant;
      throw new Error(`unknown bill plant ${JSON.stringify(impossible)}`);
    }
  }
}

/** A bank number for a planted line: digits only, so it fits every channel's format. */
function plantedNumber(seed: string): string {
  let n = 7n;
  for (const ch of seed) n = (n * 131n + BigInt(ch.charCodeAt(0))) % 10n ** 20n;
  return '9' + n.toString().padStart(20, '0');
}

const PLANT_TYPES = ['omit_payment', 'amount', 'extra_payment', 'omit_refund', 'extra_refund'] as const;

/** Reads a plant from a control request; a message says what is wrong. */
export function parseBillPlant(v: unknown): { ok: true; plant: BillPlant } | { ok: false; message: string } {
  if (typeof v !== 'object' || v === null) return { ok: false, message: 'plant must be an object' };
  const p = v as Record<string, unknown>;
  if (!PLANT_TYPES.includes(p.type as (typeof PLANT_TYPES)[number])) return { ok: false, message: `plant.type must be one of ${PLANT_TYPES.join(', ')}` };
  const needs: Record<(typeof PLANT_TYPES)[number], string[]> = {
    omit_payment: ['outTradeNo'],
    amount: ['outTradeNo', 'amountMinor'],
    extra_payment: ['outTradeNo', 'amountMinor'],
    omit_refund: ['outRefundNo'],
    extra_refund: ['outTradeNo', 'outRefundNo', 'amountMinor'],
  };
  for (const field of needs[p.type as (typeof PLANT_TYPES)[number]]) {
    const value = p[field];
    const ok = field === 'amountMinor' ? Number.isInteger(value) && (value as number) > 0 : typeof value === 'string' && value !== '';
    if (!ok) return { ok: false, message: `plant.${field} is required (${field === 'amountMinor' ? 'a positive integer' : 'a non-empty string'})` };
  }
  return { ok: true, plant: p as unknown as BillPlant };
}
