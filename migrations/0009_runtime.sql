-- The runtime: jobs are claimed with a lease, finished, retried with backoff or dead-lettered; analyses
-- are stored once per (pipeline, repository, commit); commit messages seen before reuse their result;
-- identities map commit authors to people.

ALTER TABLE jobs ADD COLUMN lease_token uuid;

CREATE TABLE analyses (
    tenant_id         uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    analysis_id       uuid NOT NULL,
    job_id            uuid NOT NULL,
    delivery_id       uuid NOT NULL,
    pipeline          text NOT NULL CHECK (pipeline IN ('commitments', 'security_review', 'change_summary')),
    repository        text NOT NULL,
    sha               text NOT NULL,
    author_name       text,
    author_email      text,
    author_handle     text,
    committed_at      timestamptz,
    output            jsonb NOT NULL,
    provider          text NOT NULL,
    model             text NOT NULL,
    prompt_tokens     bigint NOT NULL DEFAULT 0,
    completion_tokens bigint NOT NULL DEFAULT 0,
    total_tokens      bigint NOT NULL DEFAULT 0,
    reused            boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, analysis_id)
);
-- One analysis per pipeline and commit: a job run twice, a forced push or a replay stores nothing new.
CREATE UNIQUE INDEX analyses_commit_key ON analyses (tenant_id, pipeline, lower(repository), sha);
CREATE INDEX analyses_created_idx ON analyses (tenant_id, created_at DESC, analysis_id DESC);
ALTER TABLE analyses ENABLE ROW LEVEL SECURITY;
ALTER TABLE analyses FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON analyses
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());

-- Results by normalised commit message, so a message seen before costs nothing the next time.
CREATE TABLE message_results (
    tenant_id    uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    pipeline     text NOT NULL,
    message_hash bytea NOT NULL,
    simhash      bigint NOT NULL,
    output       jsonb NOT NULL,
    provider     text NOT NULL,
    model        text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, pipeline, message_hash)
);
CREATE INDEX message_results_recent_idx ON message_results (tenant_id, pipeline, created_at DESC);
ALTER TABLE message_results ENABLE ROW LEVEL SECURITY;
ALTER TABLE message_results FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON message_results
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());

CREATE TABLE identities (
    tenant_id     uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    email         text NOT NULL,
    git_emails    text[] NOT NULL DEFAULT '{}',
    chat_handle   text,
    manager_email text,
    timezone      text,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, email)
);
CREATE INDEX identities_git_emails_idx ON identities USING gin (git_emails);
ALTER TABLE identities ENABLE ROW LEVEL SECURITY;
ALTER TABLE identities FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON identities
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());

GRANT SELECT, INSERT, UPDATE ON analyses TO controlplane_app;
GRANT SELECT, INSERT, UPDATE ON message_results TO controlplane_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON identities TO controlplane_app;

-- `jobs_mark_enqueued` of 0008, noting a job only while it still has the attempts it had when it was
-- sent and is still queued: a note that arrives after the job was claimed and failed again (and so
-- needs sending again) would otherwise mark it as on Redis when it is not.
DROP FUNCTION IF EXISTS jobs_mark_enqueued(uuid[], uuid[]);
