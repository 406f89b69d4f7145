-- Version 1: token records, their deterministic index, subject keys,
-- consents and the sidecar's bookkeeping. Times are Unix nanoseconds
-- (NULL: never). Portable to CockroachDB and YugabyteDB.
CREATE TABLE pv_records (
    class       TEXT   NOT NULL,
    id          BYTEA  NOT NULL,
    idx         BYTEA,
    key_version BIGINT NOT NULL,
    ciphertext  BYTEA  NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    subject     BYTEA,
    PRIMARY KEY (class, id)
);
-- One token per deterministic value per class across the whole fleet.
-- The secondary indexes are partial: a random token without subject or
-- retention costs one index entry (the primary key), not four.
CREATE UNIQUE INDEX pv_records_idx ON pv_records (class, idx) WHERE idx IS NOT NULL;
CREATE INDEX pv_records_subject ON pv_records (subject) WHERE subject IS NOT NULL;
CREATE INDEX pv_records_expires ON pv_records (class, expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE pv_subject_keys (
    subject BYTEA NOT NULL,
    class   TEXT  NOT NULL,
    wrapped BYTEA NOT NULL,
    PRIMARY KEY (subject, class)
);

CREATE TABLE pv_consents (
    subject      BYTEA  NOT NULL,
    purpose      TEXT   NOT NULL,
    lawful_basis TEXT   NOT NULL,
    granted_at   BIGINT,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    PRIMARY KEY (subject, purpose)
);

CREATE TABLE pv_meta (
    name  TEXT  NOT NULL PRIMARY KEY,
    value BYTEA NOT NULL
);

-- Leases make a background job run on one sidecar of the fleet at a time.
CREATE TABLE pv_leases (
    name       TEXT   NOT NULL PRIMARY KEY,
    holder     TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);
