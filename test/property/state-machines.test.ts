// Model-based tests of the order and payment-attempt state machines. Random sequences of what can
// happen to one order — attempts opened, the channel's answers about any attempt in any order and
// duplicated, merchant closes, expiry, the query schedule running out — are applied twice:
//   - to the "real" state, through the domain's own pure functions (decideOnTradeStatus,
//     checkTransition, isOpenAttempt, tradeStatusFromTransaction), composed the way the services
//     compose them (state-change.ts, payments.ts, orders.ts, reconcile.ts);
//   - to a model written from the prose alone: the README ("States", G1, G3, G5, G6),
//     ARCHITECTURE §3, and the rules stated in the domain's doc comments (when a closed trade
//     closes its order), not from the code that implements them.
// After every command both must agree, and the real state must keep the invariants.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ATTEMPT_STATES, ORDER_STATES, checkTransition, isOpenAttempt, type AttemptState, type Entity, type OrderState } from '../../src/domain/states.ts';
import { decideOnTradeStatus, type Anomaly, type AttemptFacts, type DecisionContext, type OrderFacts } from '../../src/domain/decisions.ts';
import { tradeStatusFromTransaction } from '../../src/channels/wechatpay/transaction.ts';
import type { TradeStatus } from '../../src/domain/trade-status.ts';
import type { EventType } from '../../src/domain/events.ts';

const NUM_RUNS = 2000;
const COMMANDS_MAX = 40;
const AMOUNT_MINOR = 1999;

// ---------------------------------------------------------------------------------------------
// The documented transitions, as edges, copied from the prose of ARCHITECTURE §3 and the README
// ("a CLOSED or FAILED attempt that the channel later reports paid becomes SUCCEEDED"), not from
// src/domain/states.ts. '∅' is "no row yet".
// ---------------------------------------------------------------------------------------------
const DOCUMENTED_EDGES: Record<Entity, ReadonlySet<string>> = {
  order: new Set([
    '∅→CREATED',
    'CREATED→PAYING',
    'PAYING→PAID',
    'CREATED→CLOSED',
    'PAYING→CLOSED',
    'PAYING→EXCEPTION',
    'EXCEPTION→PAID',
    'EXCEPTION→CLOSED',
  ]),
  attempt: new Set([
    '∅→CREATING',
    'CREATING→PENDING',
    'CREATING→SUCCEEDED',
    'CREATING→FAILED',
    'CREATING→CLOSED',
    'PENDING→SUCCEEDED',
    'PENDING→FAILED',
    'PENDING→CLOSED',
    // README "Switching channels": a close the channel can only honour from the trade's expiry
    // on leaves the attempt CLOSING, watched until the channel closes it or reports it paid.
    'CREATING→CLOSING',
    'PENDING→CLOSING',
    'CLOSING→CLOSED',
    'CLOSING→SUCCEEDED',
    'CLOSED→SUCCEEDED',
    'FAILED→SUCCEEDED',
  ]),
};
const isDocumented = (entity: Entity, from: string | null, to: string) => DOCUMENTED_EDGES[entity].has(`${from ?? '∅'}→${to}`);

/** True when checkTransition throws its "not an allowed transition" assertion; anything else thrown is a bug. */
function refusesTransition(entity: Entity, id: string, from: string | null, to: string): boolean {
  try {
    checkTransition(entity, id, from, to);
    return false;
  } catch (err) {
    if (err instanceof Error && err.message.includes('is not an allowed transition')) return true;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// What the channel can say about one trade: WeChat Pay's trade_state values (README "Known
// differences" and channels.md), with a paid answer of the right or a wrong amount, "no such
// trade", silence, and a trade_state WeChat does not document.
// ---------------------------------------------------------------------------------------------
const ANSWERS = [
  'SUCCESS',
  'REFUND',
  'SUCCESS_SHORT_AMOUNT',
  'SUCCESS_OTHER_CURRENCY',
  'NOTPAY',
  'USERPAYING',
  'CLOSED',
  'REVOKED',
  'PAYERROR',
  'ORDER_NOT_EXIST',
  'TIMEOUT',
  'UNDOCUMENTED_STATE',
] as const;
type Answer = (typeof ANSWERS)[number];

/** The real side: the answer as the adapter hands it to the decision. */
function tradeStatusOf(answer: Answer, attemptIndex: number): TradeStatus {
  if (answer === 'ORDER_NOT_EXIST') return { kind: 'not_found' };
  if (answer === 'TIMEOUT') return { kind: 'unknown', reason: 'timeout' };
  const tradeState = answer.startsWith('SUCCESS') ? 'SUCCESS' : answer === 'UNDOCUMENTED_STATE' ? 'ACCEPT' : answer;
  return tradeStatusFromTransaction({
    trade_state: tradeState,
    transaction_id: `4200000${attemptIndex}`,
    amount: {
      total: answer === 'SUCCESS_SHORT_AMOUNT' ? AMOUNT_MINOR - 1 : AMOUNT_MINOR,
      currency: answer === 'SUCCESS_OTHER_CURRENCY' ? 'USD' : 'CNY',
    },
    success_time: '2026-01-01T10:00:00+08:00',
  });
}

// ---------------------------------------------------------------------------------------------
// The model: the intended behaviour, stated independently.
// ---------------------------------------------------------------------------------------------
type Meaning = 'paid' | 'wrong_amount' | 'not_paid' | 'closed' | 'absent' | 'silence';

/** What each answer means for the money (README: only the channel's answer moves an attempt, G6). */
const MEANING: Record<Answer, Meaning> = {
  SUCCESS: 'paid',
  // A refund was started on a paid trade: the payment itself happened.
  REFUND: 'paid',
  // G5: a paid answer whose amount or currency does not check out changes nothing.
  SUCCESS_SHORT_AMOUNT: 'wrong_amount',
  SUCCESS_OTHER_CURRENCY: 'wrong_amount',
  NOTPAY: 'not_paid',
  USERPAYING: 'not_paid',
  CLOSED: 'closed',
  REVOKED: 'closed',
  PAYERROR: 'closed',
  ORDER_NOT_EXIST: 'absent',
  TIMEOUT: 'silence',
  UNDOCUMENTED_STATE: 'silence',
};

interface Model {
  order: OrderState;
  /** Index of the attempt the order is paid by (G3: exactly one). */
  paidBy: number | null;
  attempts: AttemptState[];
  expired: boolean;
  events: EventType[];
  anomalies: Anomaly[];
}

/** Outcome of a command as the merchant or the job sees it. */
type Outcome = 'ok' | 'opened' | 'reused' | 'resolved' | 'unresolved' | 'order_paid' | 'order_closed' | 'channel_unavailable';

const MODEL_OPEN_ATTEMPT: readonly AttemptState[] = ['CREATING', 'PENDING'];
const modelOrderIsOpen = (m: Model) => m.order === 'CREATED' || m.order === 'PAYING' || m.order === 'EXCEPTION';
const modelOpenAttempt = (m: Model) => m.attempts.findIndex((a) => MODEL_OPEN_ATTEMPT.includes(a));

/** The channel's word about attempt k. `closing`: we asked the channel to close that trade. */
function modelReport(m: Model, k: number, meaning: Meaning, closing: boolean): Outcome {
  switch (meaning) {
    case 'paid':
      // "The channel's word wins": whatever the attempt was, it is SUCCEEDED now.
      m.attempts[k] = 'SUCCEEDED';
      if (modelOrderIsOpen(m)) {
        m.order = 'PAID';
        m.paidBy = k;
        m.events.push('order.paid');
      } else if (m.order === 'PAID' && m.paidBy !== k) {
        // G3: the order stays paid by the first attempt; the second payment is flagged for a refund.
        m.anomalies.push('duplicate_payment');
      } else if (m.order === 'CLOSED') {
        // CLOSED is final; the money is accounted for on the attempt and flagged.
        m.anomalies.push('late_payment');
      }
      return 'resolved';
    case 'wrong_amount':
      m.anomalies.push('amount_mismatch');
      return 'unresolved';
    case 'not_paid':
    case 'silence':
      return 'unresolved';
    case 'absent':
      // "Not found" before we closed the trade may mean "not created yet": nothing is inferred.
      // Once we have closed it, it never existed and now never can.
      if (!closing) return 'unresolved';
      return modelTradeClosed(m, k);
    case 'closed':
      return modelTradeClosed(m, k);
  }
}

/**
 * A trade closed at the channel can never be paid there. Its attempt, if still open, is CLOSED;
 * and once no other attempt is open the order has nothing left to be paid by, so it is CLOSED too
 * — whoever closed the trade, and whenever the answer arrives.
 */
function modelTradeClosed(m: Model, k: number): Outcome {
  // The channel said this trade was paid: a "closed" about it is stale and the payment stands.
  if (m.attempts[k] === 'SUCCEEDED') return 'resolved';
  if (MODEL_OPEN_ATTEMPT.includes(m.attempts[k]!)) m.attempts[k] = 'CLOSED';
  const otherOpen = m.attempts.some((a, i) => i !== k && MODEL_OPEN_ATTEMPT.includes(a));
  if (!otherOpen && modelOrderIsOpen(m)) {
    m.order = 'CLOSED';
    m.events.push('order.closed');
  }
  return 'resolved';
}

function modelCloseWhenNothingOpen(m: Model): void {
  if (modelOrderIsOpen(m) && modelOpenAttempt(m) === -1) {
    m.order = 'CLOSED';
    m.events.push('order.closed');
  }
}

// ---------------------------------------------------------------------------------------------
// The real side: the order and attempt rows, changed only through the domain's functions.
// ---------------------------------------------------------------------------------------------
interface Real {
  order: OrderFacts;
  attempts: AttemptFacts[];
  expired: boolean;
  events: EventType[];
  anomalies: Anomaly[];
  /** Every transition applied, to check against the documented edges. */
  transitions: { entity: Entity; from: string | null; to: string }[];
  /** The order's state after each command, to check what is absorbing. */
  history: { state: OrderState; paidAttemptId: string | null }[];
}

const attemptId = (k: number) => `pay_${k}`;

function newReal(): Real {
  checkTransition('order', 'ord_1', null, 'CREATED');
  return {
    order: { id: 'ord_1', state: 'CREATED', amountMinor: AMOUNT_MINOR, currency: 'CNY', paidAttemptId: null },
    attempts: [],
    expired: false,
    events: [],
    anomalies: [],
    transitions: [{ entity: 'order', from: null, to: 'CREATED' }],
    history: [],
  };
}

function moveOrderReal(r: Real, to: OrderState, paidAttemptId?: string): void {
  checkTransition('order', r.order.id, r.order.state, to);
  r.transitions.push({ entity: 'order', from: r.order.state, to });
  r.order = { ...r.order, state: to, paidAttemptId: paidAttemptId ?? r.order.paidAttemptId };
}

function moveAttemptReal(r: Real, k: number, to: AttemptState): void {
  const attempt = r.attempts[k]!;
  checkTransition('attempt', attempt.id, attempt.state, to);
  r.transitions.push({ entity: 'attempt', from: attempt.state, to });
  r.attempts[k] = { ...attempt, state: to };
}

/** Where the answer came from, as the services pass it to settleAttempt. */
type Evidence = Pick<DecisionContext, 'source' | 'closing'>;

/** settleAttempt + applyDecision without the database: decide purely, then apply. */
function settleReal(r: Real, k: number, status: TradeStatus, evidence: Evidence): Outcome {
  const otherOpenAttempt = r.attempts.some((a, i) => i !== k && isOpenAttempt(a.state));
  const d = decideOnTradeStatus(r.order, r.attempts[k]!, status, { ...evidence, otherOpenAttempt });
  if (d.attempt) moveAttemptReal(r, k, d.attempt.to);
  if (d.order) moveOrderReal(r, d.order.to, d.order.paidAttemptId);
  if (d.event) r.events.push(d.event);
  if (d.anomaly) r.anomalies.push(d.anomaly);
  return d.resolved ? 'resolved' : 'unresolved';
}

/** closeIfNoOpenAttempt (orders.ts). */
function closeWhenNothingOpenReal(r: Real): void {
  const { state } = r.order;
  if (state !== 'CREATED' && state !== 'PAYING' && state !== 'EXCEPTION') return;
  if (r.attempts.some((a) => isOpenAttempt(a.state))) return;
  moveOrderReal(r, 'CLOSED');
  r.events.push('order.closed');
}

/** A snapshot of everything but the anomaly log (a repeated anomaly is a warning, not a change). */
const stateOf = (r: Real) => JSON.stringify([r.order, r.attempts, r.events, r.transitions]);

// ---------------------------------------------------------------------------------------------
// Commands.
// ---------------------------------------------------------------------------------------------
type Cmd = fc.Command<Model, Real>;

/** POST /pay: reuse the open attempt, or open one (payOrder's phase 1). */
class OpenAttempt implements Cmd {
  check = () => true;
  run(m: Model, r: Real): void {
    const expected = ((): Outcome => {
      if (m.order === 'PAID') return 'order_paid';
      if (m.order === 'CLOSED') return 'order_closed';
      if (m.expired) {
        // An expired order with no attempt yet is closed on the spot.
        if (m.order === 'CREATED') modelCloseWhenNothingOpen(m);
        return 'order_closed';
      }
      // One open attempt per order (the partial unique index): a second POST /pay reuses it.
      if (modelOpenAttempt(m) !== -1) return 'reused';
      m.attempts.push('CREATING');
      if (m.order === 'CREATED') m.order = 'PAYING';
      return 'opened';
    })();
    const actual = ((): Outcome => {
      if (r.order.state === 'PAID') return 'order_paid';
      if (r.order.state === 'CLOSED') return 'order_closed';
      if (r.expired) {
        if (r.order.state === 'CREATED') {
          moveOrderReal(r, 'CLOSED');
          r.events.push('order.closed');
        }
        return 'order_closed';
      }
      if (r.attempts.some((a) => isOpenAttempt(a.state))) return 'reused';
      const id = attemptId(r.attempts.length);
      checkTransition('attempt', id, null, 'CREATING');
      r.transitions.push({ entity: 'attempt', from: null, to: 'CREATING' });
      r.attempts.push({ id, state: 'CREATING', amountMinor: r.order.amountMinor, currency: r.order.currency });
      if (r.order.state === 'CREATED') moveOrderReal(r, 'PAYING');
      return 'opened';
    })();
    ensure(actual === expected, () => `open: real ${actual}, model ${expected}`);
  }
  toString = () => 'open';
}

/** payOrder's phase 2: the channel's answer to "create", applied with a guarded update. */
class CreateAnswered implements Cmd {
  constructor(
    readonly pick: number,
    readonly answer: 'created' | 'rejected',
  ) {}
  check = (m: Model) => m.attempts.length > 0;
  run(m: Model, r: Real): void {
    const k = this.pick % m.attempts.length;
    const to = this.answer === 'created' ? 'PENDING' : 'FAILED';
    // The answer counts only while nobody else has settled the attempt.
    if (m.attempts[k] === 'CREATING') m.attempts[k] = to;
    // tryMoveAttempt checks the transition from the state read in phase 1, then updates only
    // `WHERE state = 'CREATING'`.
    checkTransition('attempt', attemptId(k), 'CREATING', to);
    if (r.attempts[k]!.state === 'CREATING') moveAttemptReal(r, k, to);
  }
  toString = () => `create-answered(#${this.pick}, ${this.answer})`;
}

/** A notification, an active query or ?sync=true reports the trade of attempt k, possibly several times. */
class Report implements Cmd {
  constructor(
    readonly pick: number,
    readonly answer: Answer,
    readonly source: DecisionContext['source'],
    readonly closing: boolean,
    readonly copies: number,
  ) {}
  check = (m: Model) => m.attempts.length > 0;
  run(m: Model, r: Real): void {
    const k = this.pick % m.attempts.length;
    const evidence = { source: this.source, closing: this.closing };
    let afterFirst = '';
    for (let copy = 1; copy <= this.copies; copy++) {
      const expected = modelReport(m, k, MEANING[this.answer], this.closing);
      const actual = settleReal(r, k, tradeStatusOf(this.answer, k), evidence);
      ensure(actual === expected, () => `report: real ${actual}, model ${expected}`);
      // A duplicate of the same report changes nothing the second time.
      if (copy === 1) afterFirst = stateOf(r);
      else ensure(stateOf(r) === afterFirst, () => `copy ${copy} changed ${afterFirst}\ninto ${stateOf(r)}`);
    }
  }
  toString = () => `report(#${this.pick}, ${this.answer}, ${this.source}${this.closing ? ', closing' : ''}, ×${this.copies})`;
}

/** POST /close (or the query job closing an expired order): close the open attempt at the channel first. */
class Close implements Cmd {
  constructor(readonly confirmation: Answer) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const expected = ((): Outcome => {
      if (m.order === 'PAID') return 'order_paid';
      if (m.order === 'CLOSED') return 'ok';
      const open = modelOpenAttempt(m);
      // Until the channel confirms the close, the order stays as it is and the merchant retries.
      if (open !== -1 && modelReport(m, open, MEANING[this.confirmation], true) !== 'resolved') return 'channel_unavailable';
      modelCloseWhenNothingOpen(m);
      return 'ok';
    })();
    const actual = ((): Outcome => {
      if (r.order.state === 'PAID') return 'order_paid';
      if (r.order.state === 'CLOSED') return 'ok';
      const open = r.attempts.findIndex((a) => isOpenAttempt(a.state));
      const evidence = { source: 'close' as const, closing: true };
      if (open !== -1 && settleReal(r, open, tradeStatusOf(this.confirmation, open), evidence) !== 'resolved') return 'channel_unavailable';
      closeWhenNothingOpenReal(r);
      return 'ok';
    })();
    ensure(actual === expected, () => `close: real ${actual}, model ${expected}`);
  }
  toString = () => `close(confirmed by ${this.confirmation})`;
}

/** The order's expiry passes; the sweeper closes a CREATED order (one with no attempt). */
class Expire implements Cmd {
  check = (m: Model) => !m.expired;
  run(m: Model, r: Real): void {
    m.expired = true;
    if (m.order === 'CREATED') modelCloseWhenNothingOpen(m);
    r.expired = true;
    if (r.order.state === 'CREATED') closeWhenNothingOpenReal(r);
  }
  toString = () => 'expire';
}

/** The query schedule of attempt k ran out with the payment unresolved. */
class ScheduleExhausted implements Cmd {
  constructor(readonly pick: number) {}
  check = (m: Model) => m.attempts.length > 0;
  run(m: Model, r: Real): void {
    const k = this.pick % m.attempts.length;
    // A PAYING order whose attempt is still unresolved becomes EXCEPTION, once.
    if (m.order === 'PAYING' && MODEL_OPEN_ATTEMPT.includes(m.attempts[k]!)) {
      m.order = 'EXCEPTION';
      m.events.push('order.exception');
    }
    // reconcile.ts: a settled attempt stops its job; escalation only moves a PAYING order.
    const attempt = r.attempts[k]!;
    const settled = !isOpenAttempt(attempt.state) && r.order.state !== 'EXCEPTION';
    if (!settled && r.order.state === 'PAYING') {
      moveOrderReal(r, 'EXCEPTION');
      r.events.push('order.exception');
    }
  }
  toString = () => `schedule-exhausted(#${this.pick})`;
}

/** Any write of any state from the current one: checkTransition refuses exactly the undocumented ones. */
class ProbeTransition implements Cmd {
  constructor(
    readonly entity: Entity,
    readonly pick: number,
    readonly to: string,
  ) {}
  check = (m: Model) => this.entity === 'order' || m.attempts.length > 0;
  run(m: Model, r: Real): void {
    const k = this.pick % Math.max(1, m.attempts.length);
    const from = this.entity === 'order' ? m.order : m.attempts[k]!;
    const id = this.entity === 'order' ? r.order.id : attemptId(k);
    const realFrom = this.entity === 'order' ? r.order.state : r.attempts[k]!.state;
    const refused = refusesTransition(this.entity, id, realFrom, this.to);
    ensure(refused !== isDocumented(this.entity, from, this.to), () => `${from} → ${this.to} ${refused ? 'refused' : 'allowed'}`);
  }
  toString = () => `probe(${this.entity}${this.entity === 'attempt' ? ` #${this.pick}` : ''} → ${this.to})`;
}

// ---------------------------------------------------------------------------------------------
// Agreement and invariants, checked after every command.
// ---------------------------------------------------------------------------------------------
/**
 * A plain throw: this runs after each of some 15 000 commands, where vitest's `expect` would
 * cost seconds. fast-check prints the message with the shrunk command sequence.
 */
function ensure(holds: boolean, what: () => string): void {
  if (!holds) throw new Error(what());
}

function checkAgreementAndInvariants(m: Model, r: Real): void {
  // The real state is the model's.
  const real = JSON.stringify({
    order: r.order.state,
    paidBy: r.order.paidAttemptId,
    attempts: r.attempts.map((a) => a.state),
    events: r.events,
    anomalies: r.anomalies,
  });
  const model = JSON.stringify({
    order: m.order,
    paidBy: m.paidBy === null ? null : attemptId(m.paidBy),
    attempts: m.attempts,
    events: m.events,
    anomalies: m.anomalies,
  });
  ensure(real === model, () => `real ${real}\nmodel ${model}`);

  // Every transition ever applied is a documented one.
  for (const t of r.transitions) ensure(isDocumented(t.entity, t.from, t.to), () => `undocumented ${t.entity} ${t.from} → ${t.to}`);

  // One open attempt per order at most.
  ensure(r.attempts.filter((a) => isOpenAttempt(a.state)).length <= 1, () => `two open attempts: ${real}`);

  // G3: PAID exactly when one SUCCEEDED attempt is the order's payment; every other SUCCEEDED
  // attempt is money to hand back, and was flagged.
  const paying = r.attempts.find((a) => a.id === r.order.paidAttemptId);
  ensure((r.order.state === 'PAID') === (paying?.state === 'SUCCEEDED'), () => `PAID without a SUCCEEDED paying attempt: ${real}`);
  const unaccounted = r.attempts.filter((a) => a.state === 'SUCCEEDED' && a !== paying);
  ensure(
    unaccounted.length === 0 || r.anomalies.some((a) => a === 'duplicate_payment' || a === 'late_payment'),
    () => `a second SUCCEEDED attempt went unflagged: ${real}`,
  );
  // G1: a SUCCEEDED attempt never leaves an order that could still be closed or forgotten.
  ensure(
    !r.attempts.some((a) => a.state === 'SUCCEEDED') || r.order.state === 'PAID' || r.order.state === 'CLOSED',
    () => `a SUCCEEDED attempt on an unpaid open order: ${real}`,
  );

  // Events: exactly one order.paid for a PAID order and none otherwise, likewise order.closed;
  // order.exception at most once.
  const count = (type: EventType) => r.events.filter((e) => e === type).length;
  ensure(count('order.paid') === (r.order.state === 'PAID' ? 1 : 0), () => `order.paid events: ${real}`);
  ensure(count('order.closed') === (r.order.state === 'CLOSED' ? 1 : 0), () => `order.closed events: ${real}`);
  ensure(count('order.exception') <= 1, () => `order.exception events: ${real}`);

  // PAID and CLOSED are absorbing, and the paying attempt never changes.
  const before = r.history.at(-1);
  if (before?.state === 'PAID') {
    ensure(r.order.state === 'PAID' && r.order.paidAttemptId === before.paidAttemptId, () => `left PAID by ${before.paidAttemptId}: ${real}`);
  }
  if (before?.state === 'CLOSED') ensure(r.order.state === 'CLOSED', () => `left CLOSED: ${real}`);
  r.history.push({ state: r.order.state, paidAttemptId: r.order.paidAttemptId });
}

/** Runs the command, then checks; fast-check reports the shortest sequence that breaks either. */
const checked = (cmd: Cmd): Cmd => ({
  check: (m) => cmd.check(m),
  run: (m, r) => {
    cmd.run(m, r);
    checkAgreementAndInvariants(m, r);
  },
  toString: () => cmd.toString(),
});

const pickArb = fc.nat({ max: 7 });
/** Weighted so that sequences often reach two or three attempts before anything closes the order. */
const commandArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(new OpenAttempt()) },
  {
    weight: 3,
    arbitrary: fc.tuple(pickArb, fc.constantFrom('created' as const, 'rejected' as const)).map(([p, a]) => new CreateAnswered(p, a)),
  },
  {
    weight: 8,
    arbitrary: fc
      .record({
        pick: pickArb,
        answer: fc.constantFrom(...ANSWERS),
        source: fc.constantFrom<DecisionContext['source'][]>('notification', 'query', 'sync', 'close'),
        closing: fc.boolean(),
        copies: fc.integer({ min: 1, max: 3 }),
      })
      .map((c) => new Report(c.pick, c.answer, c.source, c.closing, c.copies)),
  },
  { weight: 1, arbitrary: fc.constantFrom(...ANSWERS).map((a) => new Close(a)) },
  { weight: 1, arbitrary: fc.constant(new Expire()) },
  { weight: 2, arbitrary: pickArb.map((p) => new ScheduleExhausted(p)) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.tuple(fc.constant<Entity>('order'), fc.constant(0), fc.constantFrom<string[]>(...ORDER_STATES)),
        fc.tuple(fc.constant<Entity>('attempt'), pickArb, fc.constantFrom<string[]>(...ATTEMPT_STATES)),
      )
      .map(([entity, pick, to]) => new ProbeTransition(entity, pick, to)),
  },
);

describe('order and attempt state machines (model-based)', () => {
  it('agree with the documented model and keep the invariants over any sequence of events', () => {
    fc.assert(
      fc.property(fc.commands([commandArb.map(checked)], { maxCommands: COMMANDS_MAX, size: 'max' }), (cmds) => {
        const model: Model = { order: 'CREATED', paidBy: null, attempts: [], expired: false, events: [], anomalies: [] };
        fc.modelRun(() => ({ model, real: newReal() }), cmds);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('refuse exactly the undocumented transitions, from any state or none, to any name', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Entity[]>('order', 'attempt'),
        fc.constantFrom<(string | null)[]>(null, ...ORDER_STATES, ...ATTEMPT_STATES, 'REFUNDED', ''),
        fc.oneof(fc.constantFrom<string[]>(...ORDER_STATES, ...ATTEMPT_STATES), fc.string({ maxLength: 12 })),
        (entity, from, to) => {
          expect(refusesTransition(entity, 'id_1', from, to)).toBe(!isDocumented(entity, from, to));
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
