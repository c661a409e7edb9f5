import HTTPTypes

/// The path templates the router serves and the methods each takes, read from the router after the
/// generated handlers were registered (so it is `openapi.yaml`'s list). A request for a known path with
/// another method answers 405 with `Allow`, not 404.
struct DeclaredRoutes: Sendable {
    private let routes: [(components: [String], methods: [String])]

    /// `templates` are (path, method) pairs such as ("/v1/keys/{key_id}", "GET").
    init(_ templates: [(path: String, method: String)]) {
        var grouped: [String: Set<String>] = [:]
        for template in templates { grouped[template.path, default: []].insert(template.method) }
        routes = grouped.map { path, methods in
            (path.split(separator: "/").map(String.init), methods.sorted())
        }
    }

    /// The methods the route matching `path` takes, or nil when no declared route matches it.
    func methods(for path: String) -> [String]? {
        let segments = path.split(separator: "?", maxSplits: 1).first.map { $0.split(separator: "/") } ?? []
        for route in routes where route.components.count == segments.count {
            let matches = zip(route.components, segments).allSatisfy { template, segment in
                (template.hasPrefix("{") && template.hasSuffix("}") && !segment.isEmpty) || template == segment
            }
            if matches { return route.methods }
        }
        return nil
    }
}
