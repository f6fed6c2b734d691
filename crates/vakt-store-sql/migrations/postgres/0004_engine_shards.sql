-- The engine's work in shards: transmitters whose id leaves `shard` when divided by the number
-- of shards. Each shard keeps its own cursor into the journal and an epoch that grows each time
-- an engine takes the shard, so only its current owner can move it on.
CREATE TABLE engine_layout (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    shards      BIGINT NOT NULL CHECK (shards > 0)
);

CREATE TABLE engine_shards (
    shard       BIGINT PRIMARY KEY,
    signal_id   BIGINT NOT NULL,
    epoch       BIGINT NOT NULL
);
