-- 0004: data-subject rights (issue 7): record categories and rule states,
-- pseudonymised originals, the restore window of deleted records, the
-- suppression list of forgotten subjects, rights reports (no PII) and the
-- checkpoints left by audit-log retention. Times are Unix nanoseconds (UTC).

-- An optional category label given at storage (the "category" form part),
-- matched by operator rules; and what operator rules did to the record:
-- '' (original), 'pseudonymised' or 'anonymised'.
ALTER TABLE pii ADD COLUMN category TEXT NOT NULL DEFAULT '';
ALTER TABLE pii ADD COLUMN rule_state TEXT NOT NULL DEFAULT '';

-- The originals of pseudonymised records, keyed by a random id (the record
-- holds only a reference to it). Reachable only by admins; erased with the
-- record, by an anonymise rule and by forget.
CREATE TABLE pseudonymised (
    id           TEXT PRIMARY KEY,
    pii          TEXT NOT NULL,
    subject      TEXT NOT NULL,
    rule         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    encrypted    INTEGER NOT NULL DEFAULT 0,
    data         BLOB NOT NULL,
    created      INTEGER NOT NULL
);
CREATE INDEX pseudonymised_pii ON pseudonymised (pii);
CREATE INDEX pseudonymised_subject ON pseudonymised (subject);

-- Records deleted with a restore window (stickyd serve --restore-window):
-- the row moved out of pii (so that nothing serves it) until it is restored
-- or the window ends and it is erased (bytes gone).
CREATE TABLE deleted_pii (
    id             TEXT PRIMARY KEY,
    subject        TEXT NOT NULL,
    stored_by      TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    data           BLOB NOT NULL,
    policy         BLOB NOT NULL,
    policy_version INTEGER NOT NULL,
    policy_hash    TEXT NOT NULL,
    encrypted      INTEGER NOT NULL,
    stored_at      INTEGER NOT NULL,
    delete_at      INTEGER,
    category       TEXT NOT NULL,
    rule_state     TEXT NOT NULL,
    disclosures    TEXT NOT NULL, -- JSON: the disclosures to restore
    deleted_at     INTEGER NOT NULL,
    erase_at       INTEGER NOT NULL
);
CREATE INDEX deleted_pii_subject ON deleted_pii (subject);
CREATE INDEX deleted_pii_erase_at ON deleted_pii (erase_at);

-- The server's key for the suppression list (one row).
CREATE TABLE rights_secret (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    key BLOB NOT NULL
);

-- Forgotten subjects: only a keyed hash of the identity, so that a second
-- forget is recognised ("already forgotten") without keeping the identity.
CREATE TABLE forgotten (
    digest TEXT PRIMARY KEY,
    report TEXT NOT NULL,
    time   INTEGER NOT NULL
);

-- Reports of forget runs and rule executions, without PII (counts, record
-- ids, rule names).
CREATE TABLE rights_reports (
    id     TEXT PRIMARY KEY,
    kind   TEXT NOT NULL,
    time   INTEGER NOT NULL,
    report TEXT NOT NULL
);
CREATE INDEX rights_reports_time ON rights_reports (time);

-- What audit-log retention removed: for each record whose whole chain was
-- removed, the last entry's seq and hash (the chain head an external copy
-- of the log can still be checked against).
CREATE TABLE audit_checkpoints (
    pii     TEXT PRIMARY KEY,
    seq     INTEGER NOT NULL,
    hash    TEXT NOT NULL,
    entries INTEGER NOT NULL,
    time    INTEGER NOT NULL
);

-- Forget looks up everything of one identity: index what it searches by.
CREATE INDEX identities_identity ON identities (identity);
CREATE INDEX tombstones_subject ON tombstones (subject);
CREATE INDEX disclosures_disclosed_by ON disclosures (disclosed_by);
CREATE INDEX jobs_owner ON jobs (owner);
CREATE INDEX jobs_address ON jobs (address);
