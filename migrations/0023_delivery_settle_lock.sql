-- A delivery could stay `enqueued` for ever: two of its jobs finishing at once, each in its own
-- transaction, each saw the other still running, so neither settled it (write skew under READ
-- COMMITTED). Settling now first locks the delivery's row: the finishes of one delivery's jobs settle
-- one after another, and the later one, in a statement begun after the earlier committed, sees every
-- job's end. Locks are still taken job row first, delivery row second, as everywhere else.

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
