-- One identity model for everyone who signs in: staff (guard-company users included) now,
-- customers from My Pages on. The login and its secret move from the staff row to the
-- identity; sessions belong to an identity, not to a staff row. API clients get tokens of
-- their own, stored hashed, with scopes, listed and revocable.

CREATE TABLE identities (
    id              INTEGER PRIMARY KEY,
    login           TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    locked_until_us INTEGER,
    staff_id        INTEGER UNIQUE REFERENCES staff (id) ON DELETE CASCADE,
    customer_id     INTEGER REFERENCES customers (id) ON DELETE CASCADE,
    created_at_us   INTEGER NOT NULL,
    CHECK ((staff_id IS NULL) <> (customer_id IS NULL))
);

INSERT INTO identities (login, password_hash, failures, locked_until_us, staff_id, created_at_us)
    SELECT login, password_hash, failures, locked_until_us, id, 0 FROM staff;

CREATE TABLE identity_sessions (
    token_hash      TEXT PRIMARY KEY,
    identity_id     INTEGER NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    csrf            TEXT NOT NULL,
    created_at_us   INTEGER NOT NULL,
    expires_at_us   INTEGER NOT NULL
);

INSERT INTO identity_sessions (token_hash, identity_id, csrf, created_at_us, expires_at_us)
    SELECT s.token_hash, i.id, s.csrf, s.created_at_us, s.expires_at_us
    FROM sessions s JOIN identities i ON i.staff_id = s.staff_id;

DROP TABLE sessions;
ALTER TABLE identity_sessions RENAME TO sessions;

ALTER TABLE staff DROP COLUMN password_hash;
ALTER TABLE staff DROP COLUMN failures;
ALTER TABLE staff DROP COLUMN locked_until_us;

CREATE TABLE api_clients (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    token_hash      TEXT NOT NULL UNIQUE,
    scopes          TEXT NOT NULL,
    created_at_us   INTEGER NOT NULL,
    created_by      TEXT NOT NULL,
    revoked_at_us   INTEGER
);
