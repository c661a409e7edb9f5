-- Privileges follow people: every API key has an owner, the person at the root of its chain of makers
-- (a key made by a user is theirs; a key made by a key is the owner of that key's). A key acts with its
-- scopes as far as its owner's role allows now, and stops when its owner is removed (unless the keys
-- were handed to someone else, who then owns them).

ALTER TABLE api_keys ADD COLUMN owner_user_id uuid;

-- The backfill reads and writes every tenant's rows: the tables' own row-level security is lifted for
-- this transaction (whoever runs migrations owns the tables) and put back at the end.
ALTER TABLE api_keys NO FORCE ROW LEVEL SECURITY;
ALTER TABLE users NO FORCE ROW LEVEL SECURITY;

WITH RECURSIVE chain (tenant_id, key_id, maker, depth) AS (
    SELECT tenant_id, key_id, created_by, 0 FROM api_keys
    UNION ALL
    SELECT c.tenant_id, c.key_id, k.created_by, c.depth + 1
    FROM chain c
    JOIN api_keys k ON k.tenant_id = c.tenant_id AND c.maker = 'api_key:' || k.key_id::text
    WHERE c.depth < 64
)
UPDATE api_keys a SET owner_user_id = u.user_id
FROM chain c
JOIN users u ON u.tenant_id = c.tenant_id AND c.maker = 'user:' || u.user_id::text
WHERE a.tenant_id = c.tenant_id AND a.key_id = c.key_id;

-- A key whose chain leads to no one (its maker was removed while keys it had made lived on) outlived
-- its maker's power: it ends now.
UPDATE api_keys SET revoked_at = now(), rotated_to = NULL
WHERE owner_user_id IS NULL AND (revoked_at IS NULL OR revoked_at > now());

ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;

CREATE INDEX api_keys_owner_idx ON api_keys (tenant_id, owner_user_id);
-- Every key that still works has an owner.
ALTER TABLE api_keys ADD CONSTRAINT api_keys_owned CHECK (owner_user_id IS NOT NULL OR revoked_at IS NOT NULL);
