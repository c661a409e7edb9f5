-- after: 0015
-- One way to queue an event: with the event's id (a sealed secret is bound to it) and the secret; the
-- three-argument form the triggers use goes through it. Answers whether the tenant's URL takes the type.
CREATE OR REPLACE FUNCTION notification_emit(p_tenant uuid, p_type text, p_data jsonb, p_event uuid, p_sealed bytea)
RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO notification_events (tenant_id, event_id, type, payload, sealed_secret)
    SELECT p_tenant, p_event, p_type,
           jsonb_build_object('type', p_type, 'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                              'data', p_data),
           p_sealed
    FROM notification_settings s
    WHERE s.tenant_id = p_tenant AND s.active AND p_type = ANY(s.events);
    RETURN FOUND;
END;
$$;
CREATE OR REPLACE FUNCTION notification_emit(p_tenant uuid, p_type text, p_data jsonb)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM notification_emit(p_tenant, p_type, p_data, gen_random_uuid(), NULL::bytea);
END;
$$;
