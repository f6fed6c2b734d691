-- The alarm receiving centre: customers, sites and what operators need to handle their alarms,
-- staff and sessions, incidents with their timeline, guard dispatch, key custody, the audit
-- log and the notification outbox.

CREATE TABLE customers (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('private', 'business')),
    name            TEXT NOT NULL,
    identity        TEXT NOT NULL UNIQUE,
    signatory       TEXT NOT NULL DEFAULT '',
    email           TEXT NOT NULL DEFAULT '',
    phone           TEXT NOT NULL DEFAULT '',
    language        TEXT NOT NULL DEFAULT 'sv' CHECK (language IN ('sv', 'en')),
    created_at_us   INTEGER NOT NULL
);

ALTER TABLE sites ADD COLUMN customer_id INTEGER REFERENCES customers (id);
ALTER TABLE sites ADD COLUMN latitude REAL;
ALTER TABLE sites ADD COLUMN longitude REAL;
ALTER TABLE sites ADD COLUMN guard_area TEXT NOT NULL DEFAULT '';
ALTER TABLE sites ADD COLUMN revoking_code_hash TEXT;
ALTER TABLE sites ADD COLUMN revoking_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sites ADD COLUMN revoking_locked_until_us INTEGER;
ALTER TABLE sites ADD COLUMN test_until_us INTEGER;
ALTER TABLE sites ADD COLUMN test_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE sites ADD COLUMN note TEXT NOT NULL DEFAULT '';

CREATE TABLE alarm_points (
    id              INTEGER PRIMARY KEY,
    site_id         INTEGER NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    number          INTEGER NOT NULL,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    location        TEXT NOT NULL DEFAULT '',
    test_until_us   INTEGER,
    UNIQUE (site_id, number)
);

CREATE TABLE panel_users (
    id              INTEGER PRIMARY KEY,
    site_id         INTEGER NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    number          INTEGER NOT NULL,
    name            TEXT NOT NULL,
    UNIQUE (site_id, number)
);

CREATE TABLE contacts (
    id              INTEGER PRIMARY KEY,
    site_id         INTEGER NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    name            TEXT NOT NULL,
    phone           TEXT NOT NULL,
    authority       TEXT NOT NULL CHECK (authority IN ('full', 'cancel_only')),
    hours           TEXT NOT NULL DEFAULT '',
    password_hash   TEXT,
    failures        INTEGER NOT NULL DEFAULT 0,
    locked_until_us INTEGER
);
CREATE INDEX contacts_site ON contacts (site_id, position);

CREATE TABLE instructions (
    site_id         INTEGER NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    category        TEXT NOT NULL,
    steps           TEXT NOT NULL,
    updated_at_us   INTEGER NOT NULL,
    updated_by      TEXT NOT NULL,
    PRIMARY KEY (site_id, category)
);

CREATE TABLE guard_companies (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    phone           TEXT NOT NULL DEFAULT '',
    areas           TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE staff (
    id                  INTEGER PRIMARY KEY,
    login               TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    role                TEXT NOT NULL,
    password_hash       TEXT NOT NULL,
    guard_company_id    INTEGER REFERENCES guard_companies (id),
    language            TEXT NOT NULL DEFAULT 'sv' CHECK (language IN ('sv', 'en')),
    failures            INTEGER NOT NULL DEFAULT 0,
    locked_until_us     INTEGER,
    CHECK ((role = 'guard') = (guard_company_id IS NOT NULL))
);

CREATE TABLE sessions (
    token_hash      TEXT PRIMARY KEY,
    staff_id        INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    csrf            TEXT NOT NULL,
    created_at_us   INTEGER NOT NULL,
    expires_at_us   INTEGER NOT NULL
);

CREATE TABLE keys (
    id              INTEGER PRIMARY KEY,
    label           TEXT NOT NULL UNIQUE,
    site_id         INTEGER NOT NULL REFERENCES sites (id),
    storage         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('stored', 'with_guard', 'destruction')),
    holder          TEXT NOT NULL DEFAULT ''
);

CREATE TABLE incidents (
    id              INTEGER PRIMARY KEY,
    site_id         INTEGER NOT NULL REFERENCES sites (id),
    category        TEXT NOT NULL,
    priority        INTEGER NOT NULL,
    title           TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    opened_at_us    INTEGER NOT NULL,
    hold_until_us   INTEGER,
    owner_id        INTEGER REFERENCES staff (id),
    taken_at_us     INTEGER,
    closed_at_us    INTEGER,
    resolution      TEXT,
    closed_by       TEXT,
    runaway_zone    INTEGER,
    supervision_of  INTEGER,
    events          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX incidents_open ON incidents (state, priority, opened_at_us);
CREATE INDEX incidents_site ON incidents (site_id, state);

CREATE TABLE incident_events (
    id              INTEGER PRIMARY KEY,
    incident_id     INTEGER NOT NULL REFERENCES incidents (id),
    signal_id       INTEGER,
    at_us           INTEGER NOT NULL,
    category        TEXT NOT NULL,
    condition       TEXT NOT NULL,
    code            TEXT NOT NULL,
    zone            INTEGER,
    user_number     INTEGER,
    text            TEXT NOT NULL
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, at_us);
CREATE INDEX incident_events_zone ON incident_events (zone, at_us);

-- What people did on an incident, in order: the incident's own audit trail.
CREATE TABLE incident_log (
    id              INTEGER PRIMARY KEY,
    incident_id     INTEGER NOT NULL REFERENCES incidents (id),
    at_us           INTEGER NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    step            INTEGER,
    outcome         TEXT,
    detail          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX incident_log_incident ON incident_log (incident_id, id);

CREATE TABLE dispatches (
    id                  INTEGER PRIMARY KEY,
    incident_id         INTEGER NOT NULL REFERENCES incidents (id),
    guard_company_id    INTEGER NOT NULL REFERENCES guard_companies (id),
    state               TEXT NOT NULL CHECK (state IN ('requested', 'accepted', 'on_site', 'reported', 'cancelled')),
    requested_at_us     INTEGER NOT NULL,
    accepted_at_us      INTEGER,
    on_site_at_us       INTEGER,
    reported_at_us      INTEGER,
    report              TEXT NOT NULL DEFAULT '',
    requested_by        TEXT NOT NULL
);
CREATE INDEX dispatches_company ON dispatches (guard_company_id, state);

CREATE TABLE key_events (
    id              INTEGER PRIMARY KEY,
    key_id          INTEGER NOT NULL REFERENCES keys (id),
    at_us           INTEGER NOT NULL,
    action          TEXT NOT NULL,
    actor           TEXT NOT NULL,
    holder          TEXT NOT NULL DEFAULT '',
    dispatch_id     INTEGER REFERENCES dispatches (id),
    note            TEXT NOT NULL DEFAULT ''
);

-- Every change made by a person, append-only: who, when, what, before and after.
CREATE TABLE audit (
    id              INTEGER PRIMARY KEY,
    at_us           INTEGER NOT NULL,
    actor           TEXT NOT NULL,
    entity          TEXT NOT NULL,
    entity_id       INTEGER,
    action          TEXT NOT NULL,
    before          TEXT,
    after           TEXT
);
CREATE INDEX audit_entity ON audit (entity, entity_id, id);
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE outbox (
    id                  INTEGER PRIMARY KEY,
    channel             TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient           TEXT NOT NULL,
    subject             TEXT NOT NULL DEFAULT '',
    body                TEXT NOT NULL,
    created_at_us       INTEGER NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_us  INTEGER NOT NULL,
    claimed_until_us    INTEGER,
    delivered_at_us     INTEGER,
    last_error          TEXT
);
CREATE INDEX outbox_due ON outbox (delivered_at_us, next_attempt_at_us);

-- How far the engine has read the journal, and which transmitters it has declared silent.
CREATE TABLE engine_cursor (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    signal_id       INTEGER NOT NULL
);
INSERT INTO engine_cursor (id, signal_id) VALUES (1, 0);

CREATE TABLE link_state (
    transmitter_id  INTEGER PRIMARY KEY,
    last_heard_us   INTEGER NOT NULL,
    missing         INTEGER NOT NULL DEFAULT 0,
    incident_id     INTEGER
);
