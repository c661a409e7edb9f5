import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Jobs
import OpenAPIRuntime
import Persistence
import Runtime
import Tenancy
import Webhooks

/// The tenant's jobs (list, read, retry a failed or dead one) and the analyses they stored.
struct JobsHandler: Sendable {
    let database: Database
    let paging: Paging
    /// The rules of running a job again.
    let retrying: JobRetry
    let jobs = JobStore()
    let analyses = AnalysisStore()

    func listJobs(_ input: Operations.ListJobs.Input) async throws -> Operations.ListJobs.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let query = input.query
        let list = "jobs:\(tenantID):\(query.status?.rawValue ?? ""):\(query.pipeline?.rawValue ?? "")"
        let page = try await paging.page(
            of: list, limit: query.limit, cursor: query.cursor, tenant: tenantID
        ) { limit, cursor, transaction in
            try await jobs.list(
                status: query.status.flatMap { JobStatus(rawValue: $0.rawValue) },
                pipeline: query.pipeline.flatMap { Pipeline(rawValue: $0.rawValue) }, limit: limit,
                after: cursor,
                in: transaction)
        }
        return .ok(.init(body: .json(.init(items: page.items.map { .init($0) }, nextCursor: page.nextCursor))))
    }

    func getJob(_ input: Operations.GetJob.Input) async throws -> Operations.GetJob.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        guard let id = UUID(uuidString: input.path.jobId),
            let job = try await database.withTenant(tenantID, { try await jobs.find(id, in: $0) })
        else { throw APIError.notFound("job") }
        return .ok(.init(body: .json(.init(job))))
    }

    func retryJob(_ input: Operations.RetryJob.Input) async throws -> Operations.RetryJob.Output {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        guard let id = UUID(uuidString: input.path.jobId) else { throw APIError.notFound("job") }
        let job = try await retrying.retry(id, tenantID: tenantID, recordedAs: try scope.auditCaller())
        return .ok(.init(body: .json(.init(job))))
    }

    func listAnalyses(_ input: Operations.ListAnalyses.Input) async throws -> Operations.ListAnalyses.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let query = input.query
        if let repository = query.repository, GitHubPayload.repositoryName(repository) == nil || repository.count < 3 {
            throw APIError.invalid("repository must be owner/name.")
        }
        if let author = query.author,
            !(3...254).contains(author.count) || author.filter({ $0 == "@" }).count != 1
                || author.contains(where: \.isWhitespace)
        {
            throw APIError.invalid("author must be an email address.")
        }
        if let sha = query.sha, !(7...64).contains(sha.count) || !sha.allSatisfy(\.isHexDigit) {
            throw APIError.invalid("sha must be 7 to 64 hex digits.")
        }
        let filter = AnalysisStore.Filter(
            repository: query.repository, author: query.author,
            pipeline: query.pipeline.flatMap { Pipeline(rawValue: $0.rawValue) }, sha: query.sha)
        let list = [
            "analyses", tenantID.description, query.repository?.lowercased() ?? "", query.author?.lowercased() ?? "",
            query.pipeline?.rawValue ?? "", query.sha?.lowercased() ?? "",
        ].joined(separator: ":")
        let page = try await paging.page(
            of: list, limit: query.limit, cursor: query.cursor, tenant: tenantID
        ) { limit, cursor, transaction in
            try await analyses.list(filter, limit: limit, after: cursor, in: transaction)
        }
        return .ok(.init(body: .json(.init(items: try page.items.map { try .init($0) }, nextCursor: page.nextCursor))))
    }

    func getAnalysis(_ input: Operations.GetAnalysis.Input) async throws -> Operations.GetAnalysis.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        guard let id = UUID(uuidString: input.path.analysisId),
            let analysis = try await database.withTenant(tenantID, { try await analyses.find(id, in: $0) })
        else { throw APIError.notFound("analysis") }
        return .ok(.init(body: .json(try .init(analysis))))
    }
}

extension Components.Schemas.Job {
    init(_ job: JobRecord) {
        self.init(
            id: job.id.uuidString.lowercased(), deliveryId: job.deliveryID.uuidString.lowercased(),
            pipeline: .init(rawValue: job.pipeline.rawValue) ?? .commitments, repository: job.repository,
            status: .init(rawValue: job.status.rawValue) ?? .failed, attempts: job.attempts,
            maxAttempts: job.maxAttempts, lastError: job.lastError, createdAt: job.createdAt, startedAt: job.startedAt,
            finishedAt: job.finishedAt, updatedAt: job.updatedAt)
    }
}

extension Components.Schemas.Analysis {
    init(_ analysis: AnalysisRecord) throws {
        self.init(
            id: analysis.id.uuidString.lowercased(), jobId: analysis.jobID.uuidString.lowercased(),
            deliveryId: analysis.deliveryID.uuidString.lowercased(),
            pipeline: .init(rawValue: analysis.pipeline.rawValue) ?? .commitments, repository: analysis.repository,
            sha: analysis.sha, authorName: analysis.authorName, authorEmail: analysis.authorEmail,
            authorHandle: analysis.authorHandle, committedAt: analysis.committedAt,
            output: try JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(analysis.output.utf8)),
            provider: analysis.provider, model: analysis.model, promptTokens: Int(analysis.promptTokens),
            completionTokens: Int(analysis.completionTokens), totalTokens: Int(analysis.totalTokens),
            reused: analysis.reused, createdAt: analysis.createdAt)
    }
}
