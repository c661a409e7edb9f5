-- The LLM gateway: each tenant's versioned routing policy and its own provider credentials.

-- Every PUT /v1/policy appends a version; the highest is in force, the older ones stay readable.
CREATE TABLE llm_policies (
    tenant_id   uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    version     integer NOT NULL CHECK (version >= 1),
    document    jsonb NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, version)
);
ALTER TABLE llm_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE llm_policies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON llm_policies
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());

-- A tenant's own key per provider, sealed with CP_MASTER_KEY (AES-GCM, bound to tenant and provider);
-- never returned. `base_url` only for openai_compatible (checked against private addresses).
CREATE TABLE provider_credentials (
    tenant_id      uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    provider       text NOT NULL CHECK (provider IN ('openai', 'groq', 'gemini', 'anthropic', 'openai_compatible')),
    api_key_sealed bytea NOT NULL,
    base_url       text CHECK (octet_length(base_url) <= 2048),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, provider)
);
ALTER TABLE provider_credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE provider_credentials FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON provider_credentials
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());

GRANT SELECT, INSERT ON llm_policies TO controlplane_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON provider_credentials TO controlplane_app;
