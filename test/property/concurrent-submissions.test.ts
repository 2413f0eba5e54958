// G2 under concurrency, as a property: k concurrent submissions (2–6) of one purchase — the same
// content under new merchantOrderNos, the same Idempotency-Key and body, mixes of both, one key
// with other bodies, one merchantOrderNo with other contents — against the real database, composed
// exactly as POST /v1/orders composes the services (src/api/routes/orders.ts).
//
// fast-check's scheduler decides the interleaving: every submission gets its own view of the
// ServiceContext whose pool (each statement outside a transaction, each transaction's start and
// commit) and guard (before its claim, and after it while uncommitted) wait at gates, and the
// scheduler picks which parked submission moves next (see Interleaving). PostgreSQL's own locking
// still runs for real: a claim that waits on another's uncommitted claim blocks in the database.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPaycenter, type TestPaycenter } from '../helpers/paycenter.ts';
import { submitOrder, type SubmitOrderInput } from '../../src/services/orders.ts';
import { errorBody, withIdempotencyKey } from '../../src/services/idempotency.ts';
import { canonicalJson, sha256 } from '../../src/domain/fingerprint.ts';
import { PaycenterError } from '../../src/domain/errors.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import type { SubmissionGuard } from '../../src/guard/index.ts';
import type { Pool } from '../../src/store/db.ts';

const NUM_RUNS = 40;
const SUBMISSIONS_MIN = 2;
const SUBMISSIONS_MAX = 6;

let pc: TestPaycenter;
let appId: string;
beforeAll(async () => {
  pc = await startTestPaycenter();
  appId = pc.running.appId;
});
afterAll(() => pc?.stop());

// ---------------------------------------------------------------------------------------------
// POST /v1/orders without HTTP: the route's composition of submitOrder and withIdempotencyKey,
// and the error handler's mapping (a PaycenterError answers its status; anything else is a 500).
// ---------------------------------------------------------------------------------------------
interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- what the API answers, as JSON
  body: any;
  replayed: boolean;
}

/** The answer as a client reads it: JSON, as a replay is stored. */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

async function postOrder(ctx: ServiceContext, body: SubmitOrderInput, key: string | undefined): Promise<Answer> {
  try {
    if (key === undefined) return { status: 201, body: asJson(await submitOrder(ctx, appId, body)), replayed: false };
    const result = await withIdempotencyKey(ctx, appId, key, sha256(canonicalJson(body)), async () => ({
      status: 201,
      body: await submitOrder(ctx, appId, body),
    }));
    return { status: result.status, body: asJson(result.body), replayed: result.replayed };
  } catch (err) {
    if (err instanceof PaycenterError) return { status: err.status, body: errorBody(err), replayed: false };
    return { status: 500, body: { error: { code: 'internal_error', message: String(err) } }, replayed: false };
  }
}

/**
 * Lets fast-check's scheduler pick, one at a time, which parked submission moves on. The next gate
 * opens when every submission is parked or done, so the scheduler alone decides the order; or when
 * nothing has moved for STALL_MS, because a submission waits in PostgreSQL on a lock that a parked
 * one holds (a claim made but not committed), and PostgreSQL sorts the rest out for real.
 */
const STALL_MS = 10;

class Interleaving {
  private parked = 0;
  private done = 0;
  private wake: (() => void) | undefined;

  constructor(
    private readonly s: fc.Scheduler,
    private readonly total: number,
  ) {}

  gate(label: string): Promise<void> {
    this.parked += 1;
    this.wake?.();
    return this.s.schedule(Promise.resolve(), label);
  }

  async run<T>(work: (() => Promise<T>)[]): Promise<T[]> {
    const all = Promise.all(
      work.map((w) =>
        w().finally(() => {
          this.done += 1;
          this.wake?.();
        }),
      ),
    );
    while (this.done < this.total) {
      const settled = this.parked + this.done === this.total;
      if (!settled && (await this.moved(this.parked > 0 ? STALL_MS : undefined))) continue;
      await this.s.waitNext(1);
      this.parked -= 1;
    }
    return all;
  }

  /** True when a submission parked or finished, false when `timeoutMs` passed first. */
  private moved(timeoutMs: number | undefined): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => ((this.wake = undefined), resolve(false)), timeoutMs);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve(true);
      };
    });
  }
}

/**
 * The submission's own view of the context: each statement outside a transaction, each
 * transaction's start and commit, and the guard's claim (before it, and after it while the claim
 * is not yet committed) first wait at a gate.
 */
function gatedContext(ctx: ServiceContext, interleaving: Interleaving, label: string): ServiceContext {
  const gate = (step: string) => interleaving.gate(`${label} ${step}`);
  const query = (async (...args: unknown[]) => {
    await gate('query');
    return (ctx.pool.query as (...a: unknown[]) => Promise<unknown>)(...args);
  }) as Pool['query'];
  const connect = (async () => {
    await gate('begin');
    const client = await ctx.pool.connect();
    const send = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
    // The transaction's statements run ungated, but its COMMIT waits: other submissions may meet
    // its uncommitted claim and row meanwhile.
    return Object.create(client, {
      query: {
        value: async (...args: unknown[]) => {
          if (args[0] === 'COMMIT') await gate('commit');
          return send(...args);
        },
      },
    });
  }) as Pool['connect'];
  // Only what the submission path uses of the pool; anything else fails loudly as a 500.
  const pool = { query, connect } as unknown as Pool;
  const guard: SubmissionGuard = Object.create(ctx.guard, {
    claim: {
      value: async (...args: Parameters<SubmissionGuard['claim']>) => {
        await gate('claim');
        const holder = await ctx.guard.claim(...args);
        await gate('claimed');
        return holder;
      },
    },
  });
  return { ...ctx, pool, guard };
}

// ---------------------------------------------------------------------------------------------
// Submissions: shapes drawn by fast-check, made concrete with names unique to the run.
// ---------------------------------------------------------------------------------------------
/** Indices into the run's contents, merchantOrderNos and keys; 'fresh' is one of its own. */
interface Shape {
  content: number;
  merchantOrderNo: number | 'fresh';
  key: number | 'fresh' | null;
}

interface Submission {
  label: string;
  body: SubmitOrderInput;
  key: string | undefined;
  /** The logical purchase: equal contents are one purchase, whatever the merchantOrderNo. */
  content: string;
}

let runCounter = 0;

function materialize(shapes: Shape[]): { run: string; submissions: Submission[] } {
  runCounter += 1;
  const run = `p${process.pid}-${Date.now()}-${runCounter}`;
  const submissions = shapes.map((shape, i) => {
    const content = `prop ${run} c${shape.content}`;
    const no = shape.merchantOrderNo === 'fresh' ? `f${i}` : `m${shape.merchantOrderNo}`;
    const key = shape.key === null ? undefined : `${run}-k${shape.key === 'fresh' ? `f${i}` : shape.key}`;
    const body: SubmitOrderInput = { merchantOrderNo: `${run}-${no}`, amount: 1000 + shape.content, currency: 'CNY', subject: content };
    return { label: `#${i}(${no}${key ? `, key ${key.slice(run.length + 1)}` : ''})`, body, key, content };
  });
  return { run, submissions };
}

const shapes = (shape: fc.Arbitrary<Shape>) => fc.array(shape, { minLength: SUBMISSIONS_MIN, maxLength: SUBMISSIONS_MAX });
const replay: Shape = { content: 0, merchantOrderNo: 0, key: 0 };

const SCENARIOS: { name: string; shapes: fc.Arbitrary<Shape[]>; oneOrder: boolean }[] = [
  {
    name: 'the same content under new merchantOrderNos',
    shapes: shapes(fc.constant({ content: 0, merchantOrderNo: 'fresh', key: null })),
    oneOrder: true,
  },
  { name: 'the same Idempotency-Key and body', shapes: shapes(fc.constant(replay)), oneOrder: true },
  {
    name: 'retries of one purchase, with its key or under new numbers with or without keys of their own',
    shapes: shapes(
      fc.constantFrom<Shape[]>(replay, { content: 0, merchantOrderNo: 'fresh', key: null }, { content: 0, merchantOrderNo: 'fresh', key: 'fresh' }),
    ),
    oneOrder: true,
  },
  {
    name: 'one Idempotency-Key with different bodies',
    shapes: shapes(fc.integer({ min: 0, max: 2 }).map((b): Shape => ({ content: b, merchantOrderNo: b, key: 0 }))).filter(
      (list) => new Set(list.map((sh) => sh.content)).size > 1,
    ),
    oneOrder: true,
  },
  {
    name: 'one merchantOrderNo with different contents',
    shapes: fc
      .uniqueArray(fc.integer({ min: 0, max: 9 }), { minLength: SUBMISSIONS_MIN, maxLength: SUBMISSIONS_MAX })
      .map((contents) => contents.map((c): Shape => ({ content: c, merchantOrderNo: 0, key: null }))),
    oneOrder: true,
  },
  {
    name: 'anything: two contents, two numbers, two keys',
    shapes: shapes(
      fc.record({
        content: fc.integer({ min: 0, max: 1 }),
        merchantOrderNo: fc.oneof(fc.integer({ min: 0, max: 1 }), fc.constant('fresh' as const)),
        key: fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 1 }), fc.constant('fresh' as const)),
      }),
    ),
    oneOrder: false,
  },
];

// ---------------------------------------------------------------------------------------------
// The oracle: what README "Duplicate protection" allows, whatever the interleaving.
// ---------------------------------------------------------------------------------------------
interface OrderRecord {
  id: string;
  merchantOrderNo: string;
  subject: string;
}

const codeOf = (a: Answer): string => (a.status === 201 ? 'created' : String(a.body?.error?.code));
/** Answered by the key's record, not by running the submission. */
const byKeyRecord = (a: Answer) => a.replayed || codeOf(a) === 'idempotency_key_in_flight' || codeOf(a) === 'idempotency_key_reused';

function checkAnswers(submissions: Submission[], answers: Answer[], orders: OrderRecord[]): void {
  const where = (i: number) => `${submissions[i]!.label} answered ${answers[i]!.status} ${JSON.stringify(answers[i]!.body)}`;
  const ordersById = new Map(orders.map((o) => [o.id, o]));
  const hashOf = (sub: Submission) => sha256(canonicalJson(sub.body));

  // Never a 500, never an undocumented code.
  const documented = new Set(['created', 'duplicate_submission', 'merchant_order_no_exists', 'idempotency_key_in_flight', 'idempotency_key_reused']);
  answers.forEach((a, i) => expect(documented.has(codeOf(a)), where(i)).toBe(true));

  // Never a second order: one per content (the fingerprint window), one per merchantOrderNo.
  const perContent = new Map<string, number>();
  for (const o of orders) perContent.set(o.subject, (perContent.get(o.subject) ?? 0) + 1);
  for (const [content, n] of perContent) expect(n, `orders of ${content}`).toBe(1);
  expect(new Set(orders.map((o) => o.merchantOrderNo)).size, 'orders per merchantOrderNo').toBe(orders.length);

  // Each order was made by exactly one submission, answered 201 with that very order.
  const creators = answers.map((a, i) => i).filter((i) => answers[i]!.status === 201 && !answers[i]!.replayed);
  expect(creators.map((i) => answers[i]!.body.id).sort(), 'orders vs. their 201 answers').toEqual(orders.map((o) => o.id).sort());
  for (const i of creators) {
    const order = ordersById.get(answers[i]!.body.id)!;
    expect({ merchantOrderNo: order.merchantOrderNo, subject: order.subject }, where(i)).toEqual({
      merchantOrderNo: submissions[i]!.body.merchantOrderNo,
      subject: submissions[i]!.body.subject,
    });
  }

  // A refusal names an order that exists and is the one it means.
  answers.forEach((a, i) => {
    const named = ordersById.get(a.body?.error?.orderId);
    if (codeOf(a) === 'duplicate_submission') expect(named?.subject, where(i)).toBe(submissions[i]!.content);
    if (codeOf(a) === 'merchant_order_no_exists') expect(named?.merchantOrderNo, where(i)).toBe(submissions[i]!.body.merchantOrderNo);
  });

  // Per Idempotency-Key: exactly one submission ran; the same body gets its answer again (or
  // "in flight" while it runs), another body is refused as a reused key.
  for (const key of new Set(submissions.flatMap((sub) => (sub.key ? [sub.key] : [])))) {
    const holders = submissions.map((sub, i) => i).filter((i) => submissions[i]!.key === key);
    const ran = holders.filter((i) => !byKeyRecord(answers[i]!));
    expect(ran.length, `submissions that ran with key ${key}: ${holders.map(where).join('\n')}`).toBe(1);
    const first = ran[0]!;
    for (const i of holders) {
      const sameBody = hashOf(submissions[i]!) === hashOf(submissions[first]!);
      const code = codeOf(answers[i]!);
      if (answers[i]!.replayed) {
        expect(sameBody, where(i)).toBe(true);
        expect({ status: answers[i]!.status, body: answers[i]!.body }, where(i)).toEqual({
          status: answers[first]!.status,
          body: answers[first]!.body,
        });
      }
      if (code === 'idempotency_key_in_flight') expect(sameBody, where(i)).toBe(true);
      if (code === 'idempotency_key_reused') expect(sameBody, where(i)).toBe(false);
    }
  }

  // Not silently refused: a purchase that ran and has no order lost only to a used merchantOrderNo.
  answers.forEach((a, i) => {
    if (byKeyRecord(a) || perContent.has(submissions[i]!.content)) return;
    expect(codeOf(a), where(i)).toBe('merchant_order_no_exists');
  });
}

/** How many scheduler picks each submission waits before it starts. */
const arrivals = fc.array(fc.nat({ max: 6 }), { minLength: SUBMISSIONS_MAX, maxLength: SUBMISSIONS_MAX });

describe('concurrent submissions (G2), every interleaving the scheduler picks', () => {
  it.each(SCENARIOS)('$name: one order, and every answer is that order or a documented refusal', async ({ shapes: arb, oneOrder }) => {
    const ctx = pc.running.ctx;
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), arb, arrivals, async (s, drawn, arrivalSteps) => {
        const { run, submissions } = materialize(drawn);
        const interleaving = new Interleaving(s, submissions.length);
        const answers = await interleaving.run(
          submissions.map((sub, i) => async () => {
            // Arriving later: the scheduler has to pick this submission this many times before it starts.
            for (let step = 0; step < arrivalSteps[i]!; step++) await interleaving.gate(`${sub.label} arrives`);
            return postOrder(gatedContext(ctx, interleaving, sub.label), sub.body, sub.key);
          }),
        );
        const { rows: orders } = await ctx.pool.query<OrderRecord>(
          'SELECT id, merchant_order_no AS "merchantOrderNo", subject FROM orders WHERE app_id = $1 AND merchant_order_no LIKE $2',
          [appId, `${run}-%`],
        );
        checkAnswers(submissions, answers, orders);
        if (oneOrder) expect(orders, 'orders of this run').toHaveLength(1);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
