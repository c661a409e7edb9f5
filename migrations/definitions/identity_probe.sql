-- after: 0028
-- The person known by each of these addresses (lowercased), if any: one probe of `identity_addresses`'s key
-- and one of `identities`'s per address, whatever the size of the tenant's directory (the first by email,
-- should two claim one address). The tenant is the transaction's, planned for an average tenant as in
-- `analysis_probe`. A plain STABLE SQL function, inlined into the statement that calls it.
CREATE OR REPLACE FUNCTION identity_probe(p_addresses text[])
RETURNS TABLE (address text, email text, chat_handle text, manager_email text)
LANGUAGE sql STABLE AS $$
    SELECT wanted.address, found.email, found.chat_handle, found.manager_email
    FROM unnest(p_addresses) AS wanted (address)
    CROSS JOIN LATERAL (
        SELECT i.email, i.chat_handle, i.manager_email
        FROM public.identity_addresses a
        JOIN public.identities i ON i.tenant_id = a.tenant_id AND i.email = a.email
        WHERE a.tenant_id = (SELECT public.app_tenant_id()) AND a.address = wanted.address
        ORDER BY a.email LIMIT 1
    ) AS found
$$;
