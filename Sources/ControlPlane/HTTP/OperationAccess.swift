import Auth

/// Who may call each operation of `openapi.yaml`, keyed by its `operationId`. An operation missing
/// here is refused to everyone, so a new route cannot be left open by accident.
enum OperationAccess: Equatable {
    case anyone
    case tenant(Scope)
    case `operator`

    static let table: [String: OperationAccess] = [
        "getHealth": .anyone,
        "getReadiness": .anyone,
        "getMetrics": .anyone,
        "getJWKS": .anyone,
        "signup": .anyone,
        "login": .anyone,
        "getTenant": .tenant(.tenantRead),
        "updateTenant": .tenant(.tenantAdmin),
        "listKeys": .tenant(.keysRead),
        "getKey": .tenant(.keysRead),
        "createKey": .tenant(.keysWrite),
        "revokeKey": .tenant(.keysWrite),
        "rotateKey": .tenant(.keysWrite),
        "listAuditEvents": .tenant(.auditRead),
        "getLimits": .tenant(.billingRead),
        "updateLimits": .tenant(.billingWrite),
        "getBudget": .tenant(.billingRead),
        "updateBudget": .tenant(.billingWrite),
        "getUsage": .tenant(.billingRead),
        "createChatCompletion": .tenant(.llmInvoke),
        "listModels": .tenant(.llmInvoke),
        "getPolicy": .tenant(.policyRead),
        "updatePolicy": .tenant(.policyWrite),
        "listProviders": .tenant(.policyRead),
        "putProviderCredential": .tenant(.policyWrite),
        "deleteProviderCredential": .tenant(.policyWrite),
        "listWebhookEndpoints": .tenant(.webhooksRead),
        "getWebhookEndpoint": .tenant(.webhooksRead),
        "createWebhookEndpoint": .tenant(.webhooksWrite),
        "updateWebhookEndpoint": .tenant(.webhooksWrite),
        "deleteWebhookEndpoint": .tenant(.webhooksWrite),
        "rotateWebhookSecret": .tenant(.webhooksWrite),
        "receiveGitHubWebhook": .anyone,
        "listDeliveries": .tenant(.webhooksRead),
        "getDelivery": .tenant(.webhooksRead),
        "replayDelivery": .tenant(.webhooksWrite),
        "listIdentities": .tenant(.tenantRead),
        "getNotifications": .tenant(.webhooksRead),
        "putNotifications": .tenant(.webhooksWrite),
        "putIdentities": .tenant(.tenantAdmin),
        "listJobs": .tenant(.jobsRead),
        "getJob": .tenant(.jobsRead),
        "retryJob": .tenant(.jobsWrite),
        "listAnalyses": .tenant(.jobsRead),
        "getAnalysis": .tenant(.jobsRead),
        "listAdminTenants": .operator,
        "getAdminTenant": .operator,
        "updateAdminTenant": .operator,
        "updateAdminLimits": .operator,
        "updateAdminBudget": .operator,
        "getAdminUsage": .operator,
        "getAdminHealth": .operator,
    ]
}
