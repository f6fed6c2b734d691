-- The engine counts a point's recent alarms (the runaway rule) from the site's incidents that
-- were open in the last hour: this index finds one incident's events of one zone by time,
-- instead of every site's events of that zone.
CREATE INDEX incident_events_incident_zone ON incident_events (incident_id, zone, at_us);
