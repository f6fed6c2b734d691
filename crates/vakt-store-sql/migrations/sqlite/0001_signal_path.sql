-- The signal path: sites, transmitters and the journal of every frame received.

CREATE TABLE sites (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    address     TEXT NOT NULL DEFAULT '',
    UNIQUE (name, address)
);

CREATE TABLE transmitters (
    id                      INTEGER PRIMARY KEY,
    account                 TEXT NOT NULL,
    receiver                TEXT NOT NULL DEFAULT '',
    prefix                  TEXT NOT NULL DEFAULT '',
    key_bytes               BLOB,
    key_form                TEXT CHECK (key_form IN ('ascii', 'hex')),
    supervision_interval_s  INTEGER NOT NULL CHECK (supervision_interval_s > 0),
    timestamp_policy        TEXT NOT NULL CHECK (timestamp_policy IN ('encrypted', 'all', 'ignore')),
    window_behind_s         INTEGER NOT NULL,
    window_ahead_s          INTEGER NOT NULL,
    clock_offset_s          INTEGER NOT NULL DEFAULT 0,
    dialect                 TEXT NOT NULL DEFAULT '{}',
    site_id                 INTEGER NOT NULL REFERENCES sites (id),
    UNIQUE (account, receiver, prefix),
    CHECK ((key_bytes IS NULL) = (key_form IS NULL))
);

CREATE TABLE registry_revision (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    revision  INTEGER NOT NULL
);
INSERT INTO registry_revision (id, revision) VALUES (1, 0);

CREATE TABLE signals (
    id              INTEGER PRIMARY KEY,
    received_at_us  INTEGER NOT NULL,
    transport       TEXT NOT NULL,
    listener        TEXT NOT NULL,
    peer            TEXT NOT NULL,
    raw             BLOB NOT NULL,
    verdict         TEXT NOT NULL,
    detail          TEXT,
    token           TEXT,
    encrypted       INTEGER NOT NULL,
    sequence        TEXT,
    receiver        TEXT,
    prefix          TEXT,
    account         TEXT,
    transmitter_id  INTEGER,
    message_time_us INTEGER,
    data            BLOB,
    xdata           TEXT NOT NULL,
    events          TEXT NOT NULL,
    answer          TEXT NOT NULL,
    response        BLOB NOT NULL,
    duplicate_key   TEXT,
    duplicate_of    INTEGER
);
CREATE INDEX signals_received_at ON signals (received_at_us);
CREATE INDEX signals_account_received_at ON signals (account, received_at_us);
