-- 0001: principals, tokens, records (pii), disclosures, preferences and the
-- per-record hash-chained event log. Times are Unix nanoseconds (UTC).

CREATE TABLE principals (
    name    TEXT PRIMARY KEY,
    role    TEXT NOT NULL CHECK (role IN ('subject', 'controller', 'admin')),
    email   TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL
);

-- Bearer tokens are stored only as their SHA-256.
CREATE TABLE tokens (
    hash      BLOB PRIMARY KEY,
    principal TEXT NOT NULL REFERENCES principals (name) ON DELETE CASCADE,
    created   INTEGER NOT NULL,
    revoked   INTEGER
);
CREATE INDEX tokens_principal ON tokens (principal);

-- One row per stored record. Deleting the row erases its bytes
-- (PRAGMA secure_delete = ON overwrites the freed pages).
CREATE TABLE pii (
    id             TEXT PRIMARY KEY,
    subject        TEXT NOT NULL,
    stored_by      TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    data           BLOB NOT NULL,
    policy         BLOB NOT NULL,
    policy_version INTEGER NOT NULL,
    policy_hash    TEXT NOT NULL,
    encrypted      INTEGER NOT NULL DEFAULT 0,
    stored_at      INTEGER NOT NULL,
    delete_at      INTEGER
);
CREATE INDEX pii_subject ON pii (subject);
CREATE INDEX pii_stored_by ON pii (stored_by);
CREATE INDEX pii_delete_at ON pii (delete_at) WHERE delete_at IS NOT NULL;

-- Downstream disclosures: the recipient holds access under the record's
-- sticky policy while the record exists.
CREATE TABLE disclosures (
    id           INTEGER PRIMARY KEY,
    pii          TEXT NOT NULL REFERENCES pii (id) ON DELETE CASCADE,
    recipient    TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    disclosed_by TEXT NOT NULL,
    time         INTEGER NOT NULL
);
CREATE INDEX disclosures_pii_recipient ON disclosures (pii, recipient);
CREATE INDEX disclosures_recipient ON disclosures (recipient);

-- A data subject's registered DataHandlingPreferences document.
CREATE TABLE preferences (
    subject TEXT PRIMARY KEY,
    policy  BLOB NOT NULL,
    updated INTEGER NOT NULL
);

-- Every sticky policy a record has had, so that its log can be checked
-- against the policy in force at the time (events carry policy_hash).
CREATE TABLE policy_history (
    pii     TEXT NOT NULL,
    version INTEGER NOT NULL,
    hash    TEXT NOT NULL,
    policy  BLOB NOT NULL,
    time    INTEGER NOT NULL,
    PRIMARY KEY (pii, version)
);

-- What remains of a deleted record: who owned it (so that its owner and admins
-- can still read its events) and when it was deleted. No data.
CREATE TABLE tombstones (
    pii        TEXT PRIMARY KEY,
    subject    TEXT NOT NULL,
    deleted_at INTEGER NOT NULL
);

-- The per-record event log, a hash chain (internal/audit). Events outlive the
-- record: no foreign key to pii. Principals and recipients are pseudonyms
-- (HMAC under the record subject's key); identities maps them back.
CREATE TABLE events (
    pii         TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    time        INTEGER NOT NULL,
    type        TEXT NOT NULL,
    principal   TEXT NOT NULL DEFAULT '',
    purpose     TEXT NOT NULL DEFAULT '',
    recipient   TEXT NOT NULL DEFAULT '',
    decision    TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    policy_hash TEXT NOT NULL DEFAULT '',
    prev        TEXT NOT NULL DEFAULT '',
    hash        TEXT NOT NULL DEFAULT '',
    UNIQUE (pii, seq)
);

CREATE TABLE subject_keys (
    subject TEXT PRIMARY KEY,
    key     BLOB NOT NULL
);

CREATE TABLE identities (
    pseudonym TEXT PRIMARY KEY,
    identity  TEXT NOT NULL,
    subject   TEXT NOT NULL
);
CREATE INDEX identities_subject ON identities (subject);
