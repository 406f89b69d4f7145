-- Version 2: audit chains for audit.sink postgres. Each sidecar instance
-- keeps its own hash chain; pv_audit_chains holds its head and the lease
-- that keeps a second live process off it. Portable to CockroachDB and
-- YugabyteDB.
CREATE TABLE pv_audit_chains (
    instance       TEXT   NOT NULL PRIMARY KEY,
    holder         TEXT   NOT NULL,
    expires_at     BIGINT NOT NULL,
    pos            BIGINT NOT NULL,
    seq            BIGINT NOT NULL,
    hash           TEXT   NOT NULL,
    checkpoint_seq BIGINT NOT NULL,
    since          BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);
-- One row per record (event or checkpoint), the line exactly as audit.log
-- would hold it; pos numbers a chain's records from 1, so two writers of
-- one chain collide on the primary key.
CREATE TABLE pv_audit_records (
    instance TEXT   NOT NULL,
    pos      BIGINT NOT NULL,
    seq      BIGINT NOT NULL,
    hash     TEXT   NOT NULL,
    subject  TEXT,
    line     TEXT   NOT NULL,
    PRIMARY KEY (instance, pos)
);
CREATE INDEX pv_audit_records_subject ON pv_audit_records (subject) WHERE subject IS NOT NULL;
