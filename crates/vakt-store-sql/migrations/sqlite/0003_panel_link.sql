-- The panel link: each transmitter may hold one token (its SHA-256, never the token) that
-- its panel presents when it opens the WebSocket to Vakt.
ALTER TABLE transmitters ADD COLUMN link_token_hash TEXT;
CREATE UNIQUE INDEX transmitters_link_token ON transmitters (link_token_hash)
    WHERE link_token_hash IS NOT NULL;
