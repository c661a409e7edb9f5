import HTTPTypes

/// The path templates the router serves and the methods each takes, read from the router after the
/// generated handlers were registered (so it is `openapi.yaml`'s list). A request for a known path with
/// another method answers 405 with `Allow`, not 404.
package struct DeclaredRoutes: Sendable {
    private let routes: [(components: [String], methods: [String])]

    /// `templates` are (path, method) pairs such as ("/v1/keys/{key_id}", "GET").
    package init(_ templates: [(path: String, method: String)]) {
        var grouped: [String: Set<String>] = [:]
        for template in templates { grouped[template.path, default: []].insert(template.method) }
        routes = grouped.map { path, methods in
            (path.split(separator: "/").map(String.init), methods.sorted())
        }
    }

    /// The methods the route matching `path` takes, or nil when no declared route matches it. Of several
    /// matching templates the most literal one wins, as in the router: `/v1/users/invitations` is not
    /// `/v1/users/{user_id}`.
    package func methods(for path: String) -> [String]? {
        let segments = path.split(separator: "?", maxSplits: 1).first.map { $0.split(separator: "/") } ?? []
        var best: (literals: Int, methods: [String])?
        for route in routes where route.components.count == segments.count {
            var literals = 0
            let matches = zip(route.components, segments).allSatisfy { template, segment in
                if template.hasPrefix("{") && template.hasSuffix("}") { return !segment.isEmpty }
                literals += 1
                return template == segment
            }
            if matches, literals > (best?.literals ?? -1) { best = (literals, route.methods) }
        }
        return best?.methods
    }
}
