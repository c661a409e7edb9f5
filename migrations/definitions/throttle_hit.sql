-- after: 0005
-- One hit on a fixed-window counter (the `throttle_windows` table, no tenant rows), answering the hits in
-- the current window and the seconds until it ends. Shared by `FixedWindowThrottle` and `llm_call_plan`.
-- PL/pgSQL, so its plan is kept for the session rather than made again on every call.
CREATE OR REPLACE FUNCTION throttle_hit(p_scope text, p_subject bytea, p_window_seconds double precision,
                             OUT hits integer, OUT resets_in double precision)
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
#variable_conflict use_column
BEGIN
    INSERT INTO throttle_windows AS t (scope, subject_hash, window_start, hits, expires_at)
    VALUES (p_scope, p_subject, now(), 1, now() + make_interval(secs => p_window_seconds))
    ON CONFLICT (scope, subject_hash) DO UPDATE SET
        hits = CASE WHEN t.window_start <= now() - make_interval(secs => p_window_seconds)
                    THEN 1 ELSE t.hits + 1 END,
        window_start = CASE WHEN t.window_start <= now() - make_interval(secs => p_window_seconds)
                            THEN now() ELSE t.window_start END,
        expires_at = CASE WHEN t.window_start <= now() - make_interval(secs => p_window_seconds)
                          THEN now() + make_interval(secs => p_window_seconds) ELSE t.expires_at END
    RETURNING t.hits, EXTRACT(EPOCH FROM (t.window_start + make_interval(secs => p_window_seconds) - now()))::float8
    INTO hits, resets_in;
END;
$$;
REVOKE ALL ON FUNCTION throttle_hit(text, bytea, double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION throttle_hit(text, bytea, double precision) TO controlplane_app;
