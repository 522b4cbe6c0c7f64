import Vapor

/// `GET /api/client-config`: what the web client must know before it sends anything — the
/// upload limit and the accepted file types (checked before a byte is uploaded), the longest
/// message, and the mode (the Test Lab is always at hand in development). One place for these
/// numbers: the client reads them here instead of keeping copies that drift from the server's.
struct ClientConfigController: RouteCollection {
    let config: AppConfig

    func boot(routes: any RoutesBuilder) throws {
        let body = ClientConfig(mode: config.mode.rawValue, maxUploadBytes: config.maxUploadBytes,
                                maxMessageLength: MessageRules.maxContent,
                                uploadTypes: Array(Set(SniffedType.allCases.map(\.mimeType))).sorted())
        routes.get("api", "client-config") { _ in body }
    }

    struct ClientConfig: Content {
        var mode: String
        var maxUploadBytes: Int
        var maxMessageLength: Int
        /// Media types the server accepts, decided by content on upload (SPEC §upload).
        var uploadTypes: [String]
    }
}
