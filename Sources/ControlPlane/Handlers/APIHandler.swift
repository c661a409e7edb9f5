import ControlPlaneAPI
import ControlPlaneAPITypes

/// The generated `APIProtocol`, answered by one handler per area. Authentication already happened in
/// `AuthenticationMiddleware`; each area reads the caller from `RequestScope` and passes its tenant
/// explicitly to every repository. New areas (billing, webhooks, jobs) join as further members.
///
/// A class: the generated server copies its handler into every request's closures, and a struct of
/// eighteen areas was copied (and every service in them retained and released) on each request.
final class APIHandler: APIProtocol {
    let system: SystemHandler
    let accounts: AccountsHandler
    let tenant: TenantHandler
    let members: MembersHandler
    let keys: KeysHandler
    let admin: AdminHandler
    let billing: BillingHandler
    let adminBilling: AdminBillingHandler
    let adminHealth: AdminHealthHandler
    let llm: LLMHandler
    let policy: PolicyHandler
    let webhooks: WebhooksHandler
    let hooks: HooksHandler
    let deliveries: DeliveriesHandler
    let jobs: JobsHandler
    let identities: IdentitiesHandler
    let notifications: NotificationsHandler
    let interventions: InterventionsHandler

    init(
        system: SystemHandler,
        accounts: AccountsHandler,
        tenant: TenantHandler,
        members: MembersHandler,
        keys: KeysHandler,
        admin: AdminHandler,
        billing: BillingHandler,
        adminBilling: AdminBillingHandler,
        adminHealth: AdminHealthHandler,
        llm: LLMHandler,
        policy: PolicyHandler,
        webhooks: WebhooksHandler,
        hooks: HooksHandler,
        deliveries: DeliveriesHandler,
        jobs: JobsHandler,
        identities: IdentitiesHandler,
        notifications: NotificationsHandler,
        interventions: InterventionsHandler
    ) {
        self.system = system
        self.accounts = accounts
        self.tenant = tenant
        self.members = members
        self.keys = keys
        self.admin = admin
        self.billing = billing
        self.adminBilling = adminBilling
        self.adminHealth = adminHealth
        self.llm = llm
        self.policy = policy
        self.webhooks = webhooks
        self.hooks = hooks
        self.deliveries = deliveries
        self.jobs = jobs
        self.identities = identities
        self.notifications = notifications
        self.interventions = interventions
    }

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        try await system.getHealth(input)
    }
    func getReadiness(_ input: Operations.GetReadiness.Input) async throws -> Operations.GetReadiness.Output {
        try await system.getReadiness(input)
    }
    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        try await system.getMetrics(input)
    }
    func getJWKS(_ input: Operations.GetJWKS.Input) async throws -> Operations.GetJWKS.Output {
        try await system.getJWKS(input)
    }
    func signup(_ input: Operations.Signup.Input) async throws -> Operations.Signup.Output {
        try await accounts.signup(input)
    }
    func login(_ input: Operations.Login.Input) async throws -> Operations.Login.Output {
        try await accounts.login(input)
    }
    func getTenant(_ input: Operations.GetTenant.Input) async throws -> Operations.GetTenant.Output {
        try await tenant.getTenant(input)
    }
    func updateTenant(_ input: Operations.UpdateTenant.Input) async throws -> Operations.UpdateTenant.Output {
        try await tenant.updateTenant(input)
    }
    func listAuditEvents(_ input: Operations.ListAuditEvents.Input) async throws -> Operations.ListAuditEvents.Output {
        try await tenant.listAuditEvents(input)
    }
    func listUsers(_ input: Operations.ListUsers.Input) async throws -> Operations.ListUsers.Output {
        try await tenant.listUsers(input)
    }
    func createInvitation(_ input: Operations.CreateInvitation.Input) async throws
        -> Operations.CreateInvitation.Output
    {
        try await members.createInvitation(input)
    }
    func updateUser(_ input: Operations.UpdateUser.Input) async throws -> Operations.UpdateUser.Output {
        try await members.updateUser(input)
    }
    func listInvitations(_ input: Operations.ListInvitations.Input) async throws
        -> Operations.ListInvitations.Output
    {
        try await members.listInvitations(input)
    }
    func revokeInvitation(_ input: Operations.RevokeInvitation.Input) async throws
        -> Operations.RevokeInvitation.Output
    {
        try await members.revokeInvitation(input)
    }
    func deleteUser(_ input: Operations.DeleteUser.Input) async throws -> Operations.DeleteUser.Output {
        try await members.deleteUser(input)
    }
    func refreshSession(_ input: Operations.RefreshSession.Input) async throws -> Operations.RefreshSession.Output {
        try await accounts.refreshSession(input)
    }
    func logout(_ input: Operations.Logout.Input) async throws -> Operations.Logout.Output {
        try await accounts.logout(input)
    }
    func startGitHubSignIn(_ input: Operations.StartGitHubSignIn.Input) async throws
        -> Operations.StartGitHubSignIn.Output
    {
        try await accounts.startGitHubSignIn(input)
    }
    func finishGitHubSignIn(_ input: Operations.FinishGitHubSignIn.Input) async throws
        -> Operations.FinishGitHubSignIn.Output
    {
        try await accounts.finishGitHubSignIn(input)
    }
    func getSignInMethods(_ input: Operations.GetSignInMethods.Input) async throws
        -> Operations.GetSignInMethods.Output
    {
        accounts.signInMethods()
    }
    func acceptInvitation(_ input: Operations.AcceptInvitation.Input) async throws
        -> Operations.AcceptInvitation.Output
    {
        try await accounts.acceptInvitation(input)
    }
    func listKeys(_ input: Operations.ListKeys.Input) async throws -> Operations.ListKeys.Output {
        try await keys.listKeys(input)
    }
    func getKey(_ input: Operations.GetKey.Input) async throws -> Operations.GetKey.Output {
        try await keys.getKey(input)
    }
    func createKey(_ input: Operations.CreateKey.Input) async throws -> Operations.CreateKey.Output {
        try await keys.createKey(input)
    }
    func revokeKey(_ input: Operations.RevokeKey.Input) async throws -> Operations.RevokeKey.Output {
        try await keys.revokeKey(input)
    }
    func rotateKey(_ input: Operations.RotateKey.Input) async throws -> Operations.RotateKey.Output {
        try await keys.rotateKey(input)
    }
    func listAdminTenants(_ input: Operations.ListAdminTenants.Input) async throws -> Operations.ListAdminTenants.Output
    {
        try await admin.listAdminTenants(input)
    }
    func getAdminTenant(_ input: Operations.GetAdminTenant.Input) async throws -> Operations.GetAdminTenant.Output {
        try await admin.getAdminTenant(input)
    }
    func updateAdminTenant(_ input: Operations.UpdateAdminTenant.Input) async throws
        -> Operations.UpdateAdminTenant.Output
    {
        try await admin.updateAdminTenant(input)
    }
    func getLimits(_ input: Operations.GetLimits.Input) async throws -> Operations.GetLimits.Output {
        try await billing.getLimits(input)
    }
    func updateLimits(_ input: Operations.UpdateLimits.Input) async throws -> Operations.UpdateLimits.Output {
        try await billing.updateLimits(input)
    }
    func getBudget(_ input: Operations.GetBudget.Input) async throws -> Operations.GetBudget.Output {
        try await billing.getBudget(input)
    }
    func updateBudget(_ input: Operations.UpdateBudget.Input) async throws -> Operations.UpdateBudget.Output {
        try await billing.updateBudget(input)
    }
    func getUsage(_ input: Operations.GetUsage.Input) async throws -> Operations.GetUsage.Output {
        try await billing.getUsage(input)
    }
    func updateAdminLimits(_ input: Operations.UpdateAdminLimits.Input) async throws
        -> Operations.UpdateAdminLimits.Output
    {
        try await adminBilling.updateAdminLimits(input)
    }
    func updateAdminBudget(_ input: Operations.UpdateAdminBudget.Input) async throws
        -> Operations.UpdateAdminBudget.Output
    {
        try await adminBilling.updateAdminBudget(input)
    }
    func getAdminUsage(_ input: Operations.GetAdminUsage.Input) async throws -> Operations.GetAdminUsage.Output {
        try await adminBilling.getAdminUsage(input)
    }
    func getAdminHealth(_ input: Operations.GetAdminHealth.Input) async throws -> Operations.GetAdminHealth.Output {
        try await adminHealth.getAdminHealth(input)
    }
    func createChatCompletion(_ input: Operations.CreateChatCompletion.Input) async throws
        -> Operations.CreateChatCompletion.Output
    {
        try await llm.createChatCompletion(input)
    }
    func listModels(_ input: Operations.ListModels.Input) async throws -> Operations.ListModels.Output {
        try await llm.listModels(input)
    }
    func getPolicy(_ input: Operations.GetPolicy.Input) async throws -> Operations.GetPolicy.Output {
        try await policy.getPolicy(input)
    }
    func updatePolicy(_ input: Operations.UpdatePolicy.Input) async throws -> Operations.UpdatePolicy.Output {
        try await policy.updatePolicy(input)
    }
    func listProviders(_ input: Operations.ListProviders.Input) async throws -> Operations.ListProviders.Output {
        try await policy.listProviders(input)
    }
    func putProviderCredential(_ input: Operations.PutProviderCredential.Input) async throws
        -> Operations.PutProviderCredential.Output
    {
        try await policy.putProviderCredential(input)
    }
    func deleteProviderCredential(_ input: Operations.DeleteProviderCredential.Input) async throws
        -> Operations.DeleteProviderCredential.Output
    {
        try await policy.deleteProviderCredential(input)
    }
    func listWebhookEndpoints(_ input: Operations.ListWebhookEndpoints.Input) async throws
        -> Operations.ListWebhookEndpoints.Output
    {
        try await webhooks.listWebhookEndpoints(input)
    }
    func createWebhookEndpoint(_ input: Operations.CreateWebhookEndpoint.Input) async throws
        -> Operations.CreateWebhookEndpoint.Output
    {
        try await webhooks.createWebhookEndpoint(input)
    }
    func getWebhookEndpoint(_ input: Operations.GetWebhookEndpoint.Input) async throws
        -> Operations.GetWebhookEndpoint.Output
    {
        try await webhooks.getWebhookEndpoint(input)
    }
    func updateWebhookEndpoint(_ input: Operations.UpdateWebhookEndpoint.Input) async throws
        -> Operations.UpdateWebhookEndpoint.Output
    {
        try await webhooks.updateWebhookEndpoint(input)
    }
    func deleteWebhookEndpoint(_ input: Operations.DeleteWebhookEndpoint.Input) async throws
        -> Operations.DeleteWebhookEndpoint.Output
    {
        try await webhooks.deleteWebhookEndpoint(input)
    }
    func rotateWebhookSecret(_ input: Operations.RotateWebhookSecret.Input) async throws
        -> Operations.RotateWebhookSecret.Output
    {
        try await webhooks.rotateWebhookSecret(input)
    }
    func receiveGitHubWebhook(_ input: Operations.ReceiveGitHubWebhook.Input) async throws
        -> Operations.ReceiveGitHubWebhook.Output
    {
        try await hooks.receiveGitHubWebhook(input)
    }
    func listDeliveries(_ input: Operations.ListDeliveries.Input) async throws -> Operations.ListDeliveries.Output {
        try await deliveries.listDeliveries(input)
    }
    func getDelivery(_ input: Operations.GetDelivery.Input) async throws -> Operations.GetDelivery.Output {
        try await deliveries.getDelivery(input)
    }
    func replayDelivery(_ input: Operations.ReplayDelivery.Input) async throws -> Operations.ReplayDelivery.Output {
        try await deliveries.replayDelivery(input)
    }
    func listIdentities(_ input: Operations.ListIdentities.Input) async throws -> Operations.ListIdentities.Output {
        try await identities.listIdentities(input)
    }
    func putIdentities(_ input: Operations.PutIdentities.Input) async throws -> Operations.PutIdentities.Output {
        try await identities.putIdentities(input)
    }
    func getNotifications(_ input: Operations.GetNotifications.Input) async throws
        -> Operations.GetNotifications.Output
    {
        try await notifications.getNotifications(input)
    }
    func putNotifications(_ input: Operations.PutNotifications.Input) async throws
        -> Operations.PutNotifications.Output
    {
        try await notifications.putNotifications(input)
    }
    func listJobs(_ input: Operations.ListJobs.Input) async throws -> Operations.ListJobs.Output {
        try await jobs.listJobs(input)
    }
    func getJob(_ input: Operations.GetJob.Input) async throws -> Operations.GetJob.Output {
        try await jobs.getJob(input)
    }
    func retryJob(_ input: Operations.RetryJob.Input) async throws -> Operations.RetryJob.Output {
        try await jobs.retryJob(input)
    }
    func listAnalyses(_ input: Operations.ListAnalyses.Input) async throws -> Operations.ListAnalyses.Output {
        try await jobs.listAnalyses(input)
    }
    func getAnalysis(_ input: Operations.GetAnalysis.Input) async throws -> Operations.GetAnalysis.Output {
        try await jobs.getAnalysis(input)
    }
    func listInterventions(_ input: Operations.ListInterventions.Input) async throws
        -> Operations.ListInterventions.Output
    {
        try await interventions.listInterventions(input)
    }
    func reportInterventionOutcome(_ input: Operations.ReportInterventionOutcome.Input) async throws
        -> Operations.ReportInterventionOutcome.Output
    {
        try await interventions.reportInterventionOutcome(input)
    }
    func getInterventionSettings(_ input: Operations.GetInterventionSettings.Input) async throws
        -> Operations.GetInterventionSettings.Output
    {
        try await interventions.getInterventionSettings(input)
    }
    func putInterventionSettings(_ input: Operations.PutInterventionSettings.Input) async throws
        -> Operations.PutInterventionSettings.Output
    {
        try await interventions.putInterventionSettings(input)
    }
    func getInterventionTotals(_ input: Operations.GetInterventionTotals.Input) async throws
        -> Operations.GetInterventionTotals.Output
    {
        try await interventions.getInterventionTotals(input)
    }
}
