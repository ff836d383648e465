-- Bridge storage, version 12 (PostgreSQL): effect ids as varchar, not char.
-- Every statement compares effect_id with a text parameter (Npgsql sends strings as text). For a char(n) column PostgreSQL
-- compares as text by casting the column, so the primary key could not serve `effect_id = @EffectId`: each lookup, each
-- resolution and each restart read the whole journal (seconds per message once it held a million rows: ./bench.sh
-- --scenarios prefilled). The ids are SHA-256 in hex, always 64 characters, so nothing changes but the type.

ALTER TABLE bridge.effect_audit DROP CONSTRAINT fk_effect_audit_effect;
ALTER TABLE bridge.effect_journal ALTER COLUMN effect_id TYPE varchar(64);
ALTER TABLE bridge.effect_audit ALTER COLUMN effect_id TYPE varchar(64);
ALTER TABLE bridge.effect_audit ADD CONSTRAINT fk_effect_audit_effect
    FOREIGN KEY (effect_id) REFERENCES bridge.effect_journal (effect_id) ON DELETE CASCADE;
