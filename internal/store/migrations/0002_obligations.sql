-- 0002: the obligations outbox (due jobs) and the notifications inbox.
-- Times are Unix nanoseconds (UTC).

-- One row per due obligation. A job is runnable when it is pending and its
-- next_attempt_at has come, or running with an expired lease (then
-- next_attempt_at is the lease expiry). next_attempt_at equals due_at until
-- a try fails. jobs_runnable answers "what is due next" and "claim what is
-- due" in O(log n) whatever the number of jobs.
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE, -- the job id (obligations.Job.ID), stable across retries
    pii             TEXT NOT NULL,
    owner           TEXT NOT NULL,
    obligation      TEXT NOT NULL,
    trigger_kind    TEXT NOT NULL DEFAULT '',
    action          TEXT NOT NULL,
    media           TEXT NOT NULL DEFAULT '',
    address         TEXT NOT NULL DEFAULT '',
    lane            TEXT NOT NULL CHECK (lane IN ('local', 'remote')),
    time_driven     INTEGER NOT NULL DEFAULT 0,
    payload         TEXT NOT NULL, -- JSON: the event, the periodic schedule, the url
    due_at          INTEGER NOT NULL,
    deadline        INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    created         INTEGER NOT NULL,
    updated         INTEGER NOT NULL
);
CREATE INDEX jobs_runnable ON jobs (lane, next_attempt_at) WHERE state IN ('pending', 'running');
CREATE INDEX jobs_open_pii ON jobs (pii) WHERE state IN ('pending', 'running');
CREATE INDEX jobs_failed ON jobs (updated) WHERE state = 'failed';
CREATE INDEX jobs_finished ON jobs (updated) WHERE state IN ('done', 'cancelled');

-- The inbox: one row per delivered inbox notification; id is the job that
-- delivered it, so a job retried after a crash cannot deliver twice.
CREATE TABLE notifications (
    seq       INTEGER PRIMARY KEY,
    id        TEXT NOT NULL UNIQUE,
    recipient TEXT NOT NULL,
    time      INTEGER NOT NULL,
    delivered INTEGER NOT NULL,
    pii       TEXT NOT NULL,
    event     TEXT NOT NULL,
    principal TEXT NOT NULL DEFAULT '',
    purpose   TEXT NOT NULL DEFAULT '',
    text      TEXT NOT NULL
);
CREATE INDEX notifications_recipient ON notifications (recipient, seq);
