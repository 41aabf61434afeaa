-- 003: indexes for operating the system (docs/api-access.md, docs/metrics.md).
--
-- GET /jobs and the bulk actions read one index range per requested state, newest first, and
-- merge them (services/core/jobs/search.ts): (state, created_at, id) serves a state filter,
-- (type, state, created_at, id) a type filter with or without states. Together they cover every
-- filter combination without a sort or a scan; `id` breaks ties between equal timestamps, so
-- the keyset cursor (created_at, id) is total. Measured: `npm run bench -- --only search`.
--
-- Built inside the migration's transaction, so writes to `jobs` wait while it runs (seconds
-- per million rows); on a large live table, create the same indexes `concurrently` by hand
-- first and this migration's `if not exists` makes it a no-op.
create index if not exists jobs_state_created_idx on jobs (state, created_at desc, id desc);
create index if not exists jobs_type_state_created_idx on jobs (type, state, created_at desc, id desc);

-- The oldest-PENDING-job gauge: min(run_after) over the PENDING rows, which stay few.
create index if not exists jobs_pending_run_after_idx on jobs (run_after) where state = 'PENDING';
