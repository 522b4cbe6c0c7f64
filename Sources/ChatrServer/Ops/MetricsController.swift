import Vapor

/// `GET /metrics`: Prometheus text format (see `ChatrMetrics`). No auth: keep it off the
/// public side of the proxy (the shipped nginx site allows it from the host only).
struct MetricsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("metrics", use: Self.metrics)
    }

    @Sendable static func metrics(_ req: Request) async throws -> Response {
        let text = ChatrMetrics.shared.render(server: req.application.socketIOServer, cluster: req.application.chatrCluster)
        return Response(status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"], body: .init(string: text))
    }
}
