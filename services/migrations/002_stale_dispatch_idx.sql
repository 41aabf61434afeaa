-- 002: the sweeper also re-sends PENDING jobs whose confirmed dispatch is old (REDISPATCH_AFTER_MS):
-- a message the broker lost after confirming it (queue purged or deleted, a classic queue's
-- node lost) must not strand its job. This index serves that branch of the sweep.
create index jobs_pending_dispatched_idx on jobs (dispatched_at) where state = 'PENDING' and dispatched_at is not null;
