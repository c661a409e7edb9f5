-- after: 0023
CREATE OR REPLACE FUNCTION job_settle_delivery(p_tenant uuid, p_delivery uuid)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM 1 FROM webhook_deliveries d WHERE d.tenant_id = p_tenant AND d.delivery_id = p_delivery FOR UPDATE;
    UPDATE webhook_deliveries d
    SET status = CASE WHEN EXISTS (SELECT 1 FROM jobs j WHERE j.tenant_id = p_tenant AND j.delivery_id = p_delivery
                                   AND j.status IN ('failed', 'dead')
                                   AND j.created_at >= COALESCE(d.replayed_at, '-infinity'))
                      THEN 'failed' ELSE 'processed' END,
        updated_at = now()
    WHERE d.tenant_id = p_tenant AND d.delivery_id = p_delivery AND d.status IN ('accepted', 'enqueued', 'processed', 'failed')
      AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.tenant_id = p_tenant AND j.delivery_id = p_delivery
                      AND j.status IN ('queued', 'running'));
END;
$$;
