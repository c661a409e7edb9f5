import Foundation
import Gateway
import Providers
import Webhooks

extension Step {
    /// `commitments`: the promises of one commit message, owners mapped, due dates resolved against the
    /// commit's own date. A message the tenant committed before reuses that result at no cost:
    /// `remembered` holds the results known for the push's messages (by digest in hex) and gains this one.
    func commitments(_ commit: PushCommit, remembered known: inout [String: AnalysisStore.Remembered]) async throws {
        let message = CommitMessage(commit.message)
        let store = runner.store
        var remembered = known[message.digestHex]
        if remembered == nil, let nearDistance {
            remembered = try await runner.database.withTenant(job.tenantID) {
                try await store.nearResult(.commitments, message: message, distance: nearDistance, in: $0)
            }
        }
        if let remembered {
            let output = try PipelineAnswer.object(remembered.output)
            let resolved = try resolve(output, commit: commit)
            try await runner.save(
                analysis(
                    commit, output: resolved, provider: remembered.provider, model: remembered.model,
                    usage: TokenUsage(promptTokens: 0, completionTokens: 0, reasoningTokens: 0), reused: true),
                tenant: job.tenantID)
            return
        }
        let (object, answer, usage) = try await runner.ask(
            .commitments, kind: .commitments, input: Self.input(commit, repository: repository), job: job)
        // What the model said, checked, is remembered; owners and dates are resolved per commit.
        let items = try PipelineAnswer.list(object, "commitments", max: 50).map { item -> [String: Any] in
            guard let text = try PipelineAnswer.string(item, "text", maxLength: 1000), !text.isEmpty else {
                throw MalformedAnswer(reason: "a commitment has no text")
            }
            guard let confidence = (item["confidence"] as? NSNumber)?.doubleValue, (0...1).contains(confidence) else {
                throw MalformedAnswer(reason: "a commitment's confidence is not between 0 and 1")
            }
            var checked: [String: Any] = ["text": text, "confidence": confidence]
            checked["owner"] = try PipelineAnswer.string(item, "owner", maxLength: 200, required: false) ?? "author"
            checked["due_text"] = try PipelineAnswer.string(item, "due_text", maxLength: 100, required: false)
            return checked
        }
        let checked: [String: Any] = ["commitments": items]
        let checkedJSON = PipelineAnswer.json(checked)
        known[message.digestHex] = AnalysisStore.Remembered(
            output: checkedJSON, provider: answer.provider.rawValue, model: answer.model)
        try await runner.save(
            analysis(
                commit, output: try resolve(checked, commit: commit), provider: answer.provider.rawValue,
                model: answer.model, usage: usage),
            tenant: job.tenantID, remembering: (message, checkedJSON))
    }

    /// Owners (`author` becomes the commit's author and their chat handle) and due dates of one commit.
    func resolve(_ output: [String: Any], commit: PushCommit) throws -> [String: Any] {
        let items = try PipelineAnswer.list(output, "commitments", max: 50).map { item -> [String: Any] in
            var resolved = item
            if item["owner"] as? String == "author" {
                resolved["owner"] = commit.authorEmail ?? commit.authorName ?? "author"
                if let handle = commit.authorEmail.flatMap({ handles[$0.lowercased()] }) {
                    resolved["owner_handle"] = handle
                }
            }
            if let due = item["due_text"] as? String, let timestamp = commit.timestamp,
                let date = DueDateResolver.resolve(due, committedAt: timestamp)
            {
                resolved["due_date"] = date
            }
            return resolved
        }
        return ["commitments": items]
    }

    /// `security_review`: risky changes in one commit, with severity.
    func securityReview(_ commit: PushCommit) async throws {
        let (object, answer, usage) = try await runner.ask(
            .securityReview, kind: .securityReview, input: Self.input(commit, repository: repository), job: job)
        let severities = ["low", "medium", "high", "critical"]
        let findings = try PipelineAnswer.list(object, "findings", max: 100).map { item -> [String: Any] in
            var checked: [String: Any] = [
                "severity": try PipelineAnswer.oneOf(item["severity"] as? String, severities, field: "severity"),
                "category": try PipelineAnswer.oneOf(
                    item["category"] as? String, ["secret", "injection", "auth_change", "other"], field: "category"),
                "description": try PipelineAnswer.string(item, "description", maxLength: 2000) ?? "",
            ]
            checked["file"] = try PipelineAnswer.string(item, "file", maxLength: 1000, required: false)
            return checked
        }
        let risk = try PipelineAnswer.oneOf(object["risk"] as? String, ["none"] + severities, field: "risk")
        try await runner.save(
            analysis(
                commit, output: ["findings": findings, "risk": risk], provider: answer.provider.rawValue,
                model: answer.model, usage: usage),
            tenant: job.tenantID)
    }

    /// `change_summary`: a note per commit, stored as soon as it is made, then one summary of the push
    /// added to every commit's analysis. A job run again asks only for the notes and summary it lacks.
    func changeSummary(_ commits: [PushCommit], existing: [String: String]) async throws {
        var notes: [String] = []
        for commit in commits {
            if let stored = existing[commit.sha], let output = try? PipelineAnswer.object(stored),
                let note = output["note"] as? String
            {
                notes.append(note)
                continue
            }
            let (object, answer, usage) = try await runner.ask(
                .commitNote, kind: .changeSummary, input: Self.input(commit, repository: repository), job: job)
            guard let note = try PipelineAnswer.string(object, "note", maxLength: 1000), !note.isEmpty else {
                throw MalformedAnswer(reason: "`note` is empty")
            }
            let areas = (object["areas"] as? [Any] ?? []).compactMap { $0 as? String }.prefix(50)
            try await runner.save(
                analysis(
                    commit, output: ["note": note, "areas": Array(areas)], provider: answer.provider.rawValue,
                    model: answer.model, usage: usage),
                tenant: job.tenantID)
            notes.append(note)
        }
        let store = runner.store
        let shas = commits.map(\.sha)
        let missing = try await runner.database.withTenant(job.tenantID) {
            try await store.withoutSummary(repository: repository, shas: shas, in: $0)
        }
        guard !missing.isEmpty else { return }
        let (summary, _, usage) = try await runner.ask(
            .pushSummary, kind: .changeSummary, input: ["repository": repository, "notes": notes], job: job)
        let text = try PipelineAnswer.string(summary, "summary", maxLength: 4000) ?? ""
        let impact = try PipelineAnswer.oneOf(
            summary["impact"] as? String, ["none", "low", "medium", "high"], field: "impact")
        try await runner.database.withTenant(job.tenantID) {
            try await store.attachSummary(
                PipelineAnswer.json(["push_summary": text, "impact": impact]), to: missing, usage: usage, in: $0)
        }
    }
}
