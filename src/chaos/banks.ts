// The sandbox banks as the chaos check reads them: each simulated channel keeps its ledger in its
// own schema, with the same `ledger` and `refunds` views and `notifications` table, so a check
// reads one relation of every bank as one.
import { WECHATPAY_SCHEMA } from '../sandbox/wechatpay/store.ts';
import { ALIPAY_SCHEMA } from '../sandbox/alipay/store.ts';
import { UNIONPAY_SCHEMA } from '../sandbox/unionpay/migration.ts';

const BANK_SCHEMAS = [WECHATPAY_SCHEMA, ALIPAY_SCHEMA, UNIONPAY_SCHEMA];

/** `relation` of every bank as one subquery: `(SELECT <columns> FROM sandbox_wechatpay.<relation> UNION ALL …)`. */
export function ofEveryBank(relation: 'ledger' | 'refunds' | 'notifications', columns = '*'): string {
  return `(${BANK_SCHEMAS.map((schema) => `SELECT ${columns} FROM ${schema}.${relation}`).join(' UNION ALL ')})`;
}
