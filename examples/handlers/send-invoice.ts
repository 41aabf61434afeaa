/**
 * Job type `send-invoice`: e-mails an invoice once, although jobstack delivers every job at least
 * once. A worker can die after the e-mail went out but before the job was marked COMPLETED; the
 * job then runs again (another worker, a higher claim number) and must not send a second e-mail.
 *
 * The pattern, in the handler's own Postgres tables (created on first use; a real team puts
 * them in its migrations):
 *
 *   1. Reserve. `invoice_sends` has one row per job (the job id is the idempotency key). The run
 *      inserts it with its claim number, or takes over a row that an older claim reserved but
 *      never sent. A row already sent means an earlier run did the work: return its result.
 *   2. Work. Render the invoice (slow, interruptible; nothing is written).
 *   3. Send. One statement marks the row sent *only if this claim still owns it* and, in the
 *      same statement, writes the e-mail to `invoice_outbox`, which a mail relay delivers. The
 *      claim is the fencing token: a run whose worker stalled past its lease, and whose job was
 *      taken over meanwhile, finds a higher claim in the row and stops without sending.
 *
 * So the e-mail is written at most once per job (step 3 is atomic and conditional), and at least
 * once (the job is retried until a run gets through step 3). If the side effect lived outside
 * Postgres (a mail API), step 3 would call it with an idempotency key derived from the job id
 * (`messageId` below), the way payment and mail providers expect, and then mark the row.
 *
 * Load it with `handlers: [./examples/handlers/send-invoice.ts]` in an environment file, or
 * JOB_HANDLER_MODULES=./examples/handlers/send-invoice.ts. It writes to INVOICES_DATABASE_URL,
 * else to the job system's own DATABASE_URL.
 *
 *   curl … -d '{"type":"send-invoice","payload":{"invoiceId":"INV-1001","to":"ada@example.com","amountCents":129900}}' $U/jobs
 */
import pg from "pg";
import { defineHandler, HandlerError, z, type HandlerContext } from "jobstack/worker";

const Payload = z.object({
  invoiceId: z.string().min(1).max(100),
  to: z.email(),
  amountCents: z.number().int().positive(),
  currency: z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code like EUR").default("EUR"),
  /** How long rendering the PDF takes, simulated; the demos and the kill test make it slow. */
  renderMs: z.number().int().min(0).max(600_000).default(200),
});
type Invoice = z.output<typeof Payload>;

const SCHEMA = `
create table if not exists invoice_sends (
  job_id uuid primary key,          -- idempotency key: one send per job, however often it runs
  claim bigint not null,            -- fencing token: the claim that owns the send
  invoice_id text not null,
  recipient text not null,
  message_id text,
  sent_at timestamptz               -- null until the e-mail is in the outbox
);
create table if not exists invoice_outbox (
  message_id text primary key,
  job_id uuid not null,
  invoice_id text not null,
  recipient text not null,
  body text not null,
  created_at timestamptz not null default now()
)`;

/** Step 1: $1 job id, $2 claim, $3 invoice id, $4 recipient → a row when this claim owns the send now. */
const RESERVE = `
insert into invoice_sends (job_id, claim, invoice_id, recipient)
values ($1::uuid, $2::bigint, $3::text, $4::text)
on conflict (job_id) do update set claim = excluded.claim
  where invoice_sends.claim < excluded.claim and invoice_sends.sent_at is null
returning claim`;

/** $1 job id → the reservation as it is now. */
const CURRENT = `select claim, message_id, sent_at from invoice_sends where job_id = $1::uuid`;

/**
 * Step 3: $1 job id, $2 claim, $3 message id, $4 body → one row when this claim sent it; none
 * when it was sent already or a higher claim owns it. One statement, so mark and e-mail commit together.
 */
const SEND = `
with sent as (
  update invoice_sends set sent_at = now(), message_id = $3::text
  where job_id = $1::uuid and claim = $2::bigint and sent_at is null
  returning job_id, invoice_id, recipient
)
insert into invoice_outbox (message_id, job_id, invoice_id, recipient, body)
select $3::text, job_id, invoice_id, recipient, $4::text from sent
returning message_id`;

// Importing this module must stay cheap: the api loads it too, only for the type name and the
// payload schema. Connections open on the first run, in the worker.
let pool: pg.Pool | undefined;
let schemaReady: Promise<void> | undefined;

function db(): pg.Pool {
  if (!pool) {
    pool = new pg.Pool({ connectionString: process.env.INVOICES_DATABASE_URL ?? process.env.DATABASE_URL, max: 2 });
    pool.on("error", () => {}); // an idle connection's error; the next query reports its own
  }
  return pool;
}

function ensureSchema(): Promise<void> {
  // Workers start side by side: the advisory lock stops two `create table if not exists` racing.
  schemaReady ??= (async () => {
    const client = await db().connect();
    try {
      await client.query("begin");
      await client.query("select pg_advisory_xact_lock(hashtext('jobstack.examples.send-invoice'))");
      await client.query(SCHEMA);
      await client.query("commit");
    } catch (err) {
      await client.query("rollback").catch(() => {});
      schemaReady = undefined;
      throw err;
    } finally {
      client.release();
    }
  })();
  return schemaReady;
}

/** Why this run may not send: the e-mail is out already (result), or a newer claim owns it (error). */
async function settled(ctx: HandlerContext): Promise<{ messageId: string; invoiceSentBy: number }> {
  const { rows } = await db().query<{ claim: string; message_id: string | null; sent_at: Date | null }>(CURRENT, [ctx.jobId]);
  const row = rows[0];
  if (row?.sent_at && row.message_id) {
    ctx.logger.info({ messageId: row.message_id }, "invoice was sent by an earlier run; not sending again");
    return { messageId: row.message_id, invoiceSentBy: Number(row.claim) };
  }
  // Not retryable: the newer claim does the work, and this run's outcome is refused anyway.
  throw new HandlerError(`claim ${ctx.claim} is stale: claim ${row?.claim ?? "?"} has taken this invoice over`, false);
}

function render(invoice: Invoice, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const done = setTimeout(() => {
      signal.removeEventListener("abort", stop);
      const amount = (invoice.amountCents / 100).toFixed(2);
      resolve(`Invoice ${invoice.invoiceId}: ${amount} ${invoice.currency} due. Thank you for your business.`);
    }, invoice.renderMs);
    const stop = () => {
      clearTimeout(done);
      reject(signal.reason);
    };
    signal.addEventListener("abort", stop, { once: true });
  });
}

export default defineHandler({
  payload: Payload,
  async run(invoice, ctx) {
    await ensureSchema();
    const reserved = await db().query(RESERVE, [ctx.jobId, ctx.claim, invoice.invoiceId, invoice.to]);
    if (reserved.rowCount === 0) return settled(ctx);

    const body = await render(invoice, ctx.signal);

    // Derived from the job id, never random: a mail API would deduplicate a resend by it.
    const messageId = `invoice-${invoice.invoiceId}-${ctx.jobId}`;
    const sent = await db().query(SEND, [ctx.jobId, ctx.claim, messageId, body]);
    if (sent.rowCount === 0) return settled(ctx);
    ctx.logger.info({ messageId, invoiceId: invoice.invoiceId, attempt: ctx.attempt }, "invoice sent");
    return { messageId, invoiceSentBy: ctx.claim };
  },
});
