-- Every API replica publishes each tenant's budget use next to its soft limit
-- (`controlplane_budget_used_ratio`, `controlplane_budget_soft_limit_ratio`) for the alert on tenants
-- above their soft limit. It reads them across tenants in a maintenance transaction: these policies let
-- it read budgets, their periods and the tenants' time zones there, nothing else and never write.
CREATE POLICY maintenance_read ON budgets FOR SELECT
    USING (current_setting('app.maintenance', true) = 'on');
CREATE POLICY maintenance_read ON budget_periods FOR SELECT
    USING (current_setting('app.maintenance', true) = 'on');
CREATE POLICY maintenance_read ON tenants FOR SELECT
    USING (current_setting('app.maintenance', true) = 'on');
