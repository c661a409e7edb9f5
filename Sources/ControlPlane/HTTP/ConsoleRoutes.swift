import Edge
import Hummingbird

/// Routes the admin console: `/console` goes to `/console/` (the router takes both as one path; the
/// slash tells them apart), which answers the index, and `/console/<file>` answers the file from
/// `assets`, or 404 as any unknown path does. The edge middleware wraps these as every route.
func registerConsole(on router: Router<AppRequestContext>, assets: ConsoleAssets) {
    router.get("console") { request, _ in
        guard request.uri.path.hasSuffix("/") else {
            return Response(status: .permanentRedirect, headers: [.location: "/console/"])
        }
        return try await answer(assets.response(for: [], request: request))
    }
    router.get("console/**") { request, context in
        try await answer(assets.response(for: context.parameters.getCatchAll(), request: request))
    }
}

private func answer(_ response: Response?) throws -> Response {
    guard let response else { throw HTTPError(.notFound) }
    return response
}
