-- after: 0027
-- The results a pipeline remembered for these commit messages (digests in hex): one probe of the key per
-- message, planned for an average tenant as in `analysis_probe`. Inlined into the statement that calls it.
CREATE OR REPLACE FUNCTION message_probe(p_pipeline text, p_digests text[])
RETURNS TABLE (hex text, output text, provider text, model text)
LANGUAGE sql STABLE AS $$
    SELECT wanted.hex, found.output::text, found.provider, found.model
    FROM unnest(p_digests) AS wanted (hex)
    CROSS JOIN LATERAL (
        SELECT m.output, m.provider, m.model FROM public.message_results m
        WHERE m.tenant_id = (SELECT public.app_tenant_id()) AND m.pipeline = p_pipeline
          AND m.message_hash = decode(wanted.hex, 'hex')
        LIMIT 1
    ) AS found
$$;
