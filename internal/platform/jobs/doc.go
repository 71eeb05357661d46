// Package jobs is Tenon's durable job queue and scheduler: approval-flow
// reminders and escalations, rule actions after commit, webhook deliveries,
// imports in batches, nightly recomputations and scheduled e-mails are all
// rows of the jobs table, run by whichever Tenon process claims them.
// Several processes on one PostgreSQL run each job once; on SQLite one
// process runs them. Jobs survive restarts because they are only rows.
//
// # Enqueueing
//
// Enqueue joins the transaction carried by its context, so a job exists
// exactly when the write that caused it commits. A unique key
// de-duplicates: while a job of the same kind and key is queued or
// running, Enqueue returns it instead of adding another (a partial unique
// index enforces this across processes).
//
// # Claiming and leases
//
// A worker claims due jobs in one short transaction: queued jobs whose
// run_at has come (highest priority first), and running jobs whose lease
// has expired because their process died. On PostgreSQL the candidates are
// locked with FOR UPDATE SKIP LOCKED, so concurrent claims from several
// processes take disjoint jobs without waiting; on SQLite the single writer
// serialises claims. A claim sets status running, counts the attempt,
// writes lease_until = now + Options.Lease and a lease token into
// lease_owner: the owner's name plus a suffix unique to that claim. Every
// later write about the job (done, failure, release, heartbeat) is
// conditional on status running and that token, so a worker that has lost
// its claim can never overwrite the outcome of the worker that holds it.
// A process only claims kinds it has registered. Leases compare times
// written by different processes, so their clocks must agree (NTP) to well
// within Options.Lease.
//
// # Handlers in the transaction (InTx): exactly once
//
// With HandlerOptions.InTx the handler runs inside the transaction that
// marks the job done. Its first statement is the conditional update to
// done: it proves the claim is still ours and, on PostgreSQL, keeps the
// job's row locked until commit, so no other process can reclaim the job
// even if the handler outlives the lease (SKIP LOCKED passes it by). The
// handler's writes and "done" commit together or not at all. If the
// process dies mid-run, the transaction rolls back and the job, still
// running under an expired lease, is claimed again by another process
// after at most Options.Lease. So the database effects of an InTx job
// happen exactly once.
//
// We considered claiming and running in one transaction, holding the row
// lock instead of a lease. It recovers faster from a crash, but the rolled
// back claim loses the attempt count, so a job that kills its process would
// be retried forever; and it needs a second claim path. Here a crash counts
// as an attempt and a job whose lease expires on its last attempt is dead.
// The price is one more short transaction per job.
//
// An InTx handler must only touch the database, through the context it is
// given (never a context without the transaction: on SQLite that
// deadlocks), and may run more than once within one attempt, like any
// db.WithTx function. It must be short: on SQLite it holds the only write
// transaction and blocks every writer of the process; on PostgreSQL it
// holds a connection and row locks. Its timeout (HandlerOptions.Timeout,
// default 10 s) is enforced: work done after the deadline is rolled back
// and the attempt fails, even if the handler ignores its context.
//
// # Handlers outside a transaction: at least once
//
// Other handlers (HTTP calls, e-mail) run outside any transaction while a
// heartbeat extends the lease every third of Options.Lease. If the job is
// no longer ours (cancelled, or reclaimed after a stall), the heartbeat
// cancels the handler's context. They run at least once: if the process
// dies after the outside effect but before "done" is recorded, another
// process runs the job again. Such handlers should use the job id, which
// is never reused, as an idempotency key towards the outside system.
//
// # Failures
//
// A failed attempt is retried after min(BackoffCap, BackoffBase·2^(n-1))
// minus a random part of up to half of it. After MaxAttempts the job is
// dead, with its last error: the dead letter list. An error wrapped by
// Permanent fails the job at once. Retry puts a dead or failed job back;
// Cancel and CancelKey cancel one. Done and cancelled jobs are purged after
// Options.KeepDone, dead and failed ones after Options.KeepDead.
//
// # Schedules
//
// A schedule (job_schedules) enqueues a job of its kind each time its
// cron spec (see Cron) fires on the wall clock of its zone, Asia/Shanghai
// unless it names another. Each process looks for due schedules every
// poll interval. A due schedule row is claimed in the same transaction as
// the enqueue (FOR UPDATE SKIP LOCKED on PostgreSQL, the single writer on
// SQLite) and its next_run_at moved on with a conditional update, so a due
// time enqueues one job however many processes look. The next run is the
// first firing after now, so runs missed while every process was down
// collapse into one run on start. A schedule's jobs share the unique key
// "schedule:<name>": while one is still queued or running (a nightly job
// running late, a failing one waiting to retry), the next firing adds none.
//
// # Running and stopping
//
// Run works until its context ends, then stops claiming, lets running
// handlers finish for Options.Grace, cancels the rest and puts their jobs
// back without counting the attempt. RunDue runs what is due in the
// calling goroutine, for tests and one-shot commands. Options.Now drives
// everything stored (run_at, leases, back-off, schedules), so tests can
// move time; timeouts, heartbeats and polling use real time.
package jobs
