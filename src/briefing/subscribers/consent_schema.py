"""The store's consent tables (one migration step, appended to store.MIGRATIONS).

Triggers keep the consent record and the status history whole whichever command adds a reader
or changes a status (add, import, sync, send's refusals): no code path can forget them. A later
migration that rebuilds the subscribers table must create the three triggers again.
"""

CONSENT_MIGRATION = """
    CREATE TABLE consent (                         -- how each reader came in
        address_key TEXT PRIMARY KEY,
        source TEXT NOT NULL,                      -- cli, import:<layout>:<file>, signup, sync
        signed_up_at TEXT NOT NULL,                -- UTC, ISO 8601
        confirmed_at TEXT NOT NULL DEFAULT '',     -- a sign-up's confirmation (double opt-in)
        page TEXT NOT NULL DEFAULT '',             -- the page the form was on
        wording_hash TEXT NOT NULL DEFAULT '',     -- sha256 of the consent wording shown
        ip_hash TEXT NOT NULL DEFAULT '',          -- keyed hash, with signup.record_ip only
        themes TEXT NOT NULL DEFAULT ''            -- chosen on the form, comma-separated
    );
    INSERT INTO consent (address_key, source, signed_up_at)
        SELECT address_key, source, added_at FROM subscribers;
    CREATE TRIGGER consent_of_new_reader AFTER INSERT ON subscribers BEGIN
        INSERT OR IGNORE INTO consent (address_key, source, signed_up_at)
            VALUES (NEW.address_key, NEW.source, NEW.added_at);
    END;
    CREATE TABLE status_history (                  -- every status a reader had, oldest first
        id INTEGER PRIMARY KEY,
        address_key TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL
    );
    CREATE INDEX status_history_address ON status_history (address_key, id);
    INSERT INTO status_history (address_key, status, reason, at)
        SELECT address_key, status, status_reason, status_changed_at FROM subscribers
        ORDER BY id;
    CREATE TRIGGER status_of_new_reader AFTER INSERT ON subscribers BEGIN
        INSERT INTO status_history (address_key, status, reason, at)
            VALUES (NEW.address_key, NEW.status, NEW.status_reason, NEW.status_changed_at);
    END;
    CREATE TRIGGER status_change AFTER UPDATE OF status ON subscribers
        WHEN NEW.status IS NOT OLD.status OR NEW.status_changed_at IS NOT OLD.status_changed_at
    BEGIN
        INSERT INTO status_history (address_key, status, reason, at)
            VALUES (NEW.address_key, NEW.status, NEW.status_reason, NEW.status_changed_at);
    END;
    CREATE TABLE signups_pending (                 -- sign-ups not confirmed yet
        id TEXT PRIMARY KEY,                       -- the sign-up's id, also in its token
        address_hash TEXT NOT NULL,                -- keyed: the address itself is not known
        signed_up_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,                  -- deleted at the first sync after this
        page TEXT NOT NULL DEFAULT '',
        wording_hash TEXT NOT NULL DEFAULT '',
        ip_hash TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX signups_pending_address ON signups_pending (address_hash);
    CREATE TABLE consent_wordings (                -- the words behind each wording_hash
        hash TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        first_seen TEXT NOT NULL
    );
    CREATE TABLE erased (                          -- readers erased at their request
        address_hash TEXT PRIMARY KEY,             -- keyed with the token key
        erased_at TEXT NOT NULL
    )
"""

# The two triggers that write a new reader's rows, and the same work done set-based for the
# readers added after a given id (Store.insert_many runs these for a large import).
NEW_READER_TRIGGERS = ("consent_of_new_reader", "status_of_new_reader")
NEW_READER_ROWS = {
    "consent_of_new_reader":
        "INSERT OR IGNORE INTO consent (address_key, source, signed_up_at) "
        "SELECT address_key, source, added_at FROM subscribers WHERE id > ? ORDER BY id",
    "status_of_new_reader":
        "INSERT INTO status_history (address_key, status, reason, at) "
        "SELECT address_key, status, status_reason, status_changed_at FROM subscribers "
        "WHERE id > ? ORDER BY id",
}
