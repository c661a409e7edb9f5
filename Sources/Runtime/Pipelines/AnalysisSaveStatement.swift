import Foundation
import Persistence
import PostgresNIO

/// `analysis_save`, prepared once per connection: an analysis and, when given, the answer remembered for
/// its commit message.
struct AnalysisSaveStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT analysis_save($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
                             $20, $21, $22)::text
        """
    typealias Row = String?
    let tenantID: TenantID
    let analysis: AnalysisRecord
    let message: (CommitMessage, output: String)?

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(tenantID.rawValue)
        bindings.append(analysis.id)
        bindings.append(analysis.jobID)
        bindings.append(analysis.deliveryID)
        bindings.append(analysis.pipeline.rawValue)
        bindings.append(analysis.repository)
        bindings.append(analysis.sha)
        bindings.append(analysis.authorName)
        bindings.append(analysis.authorEmail)
        bindings.append(analysis.authorHandle)
        bindings.append(analysis.committedAt)
        bindings.append(analysis.output)
        bindings.append(analysis.provider)
        bindings.append(analysis.model)
        bindings.append(analysis.promptTokens)
        bindings.append(analysis.completionTokens)
        bindings.append(analysis.totalTokens)
        bindings.append(analysis.reused)
        bindings.append(analysis.subject)
        try bindings.append(message.map { Data($0.0.digest) })
        bindings.append(message?.0.simhash)
        bindings.append(message?.output)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(String?.self) }
}
