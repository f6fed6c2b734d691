-- The engine's work in shards: transmitters whose id leaves `shard` when divided by the number
-- of shards. Each shard keeps its own cursor into the journal and an epoch that grows each time
-- an engine takes the shard, so only its current owner can move it on.
CREATE TABLE engine_layout (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    shards      INTEGER NOT NULL CHECK (shards > 0)
);

CREATE TABLE engine_shards (
    shard       INTEGER PRIMARY KEY,
    signal_id   INTEGER NOT NULL,
    epoch       INTEGER NOT NULL
);
