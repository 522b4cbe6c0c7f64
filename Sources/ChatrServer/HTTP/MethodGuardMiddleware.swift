import Vapor

/// Answers 405 with `Allow`, in the SPEC's error format, for a method the path does not serve:
/// - a path of the API (as `OpenAPIDocument` lists it) asked with a method it does not list;
/// - anything else (the web client's files) asked with anything but GET or HEAD;
/// - methods no route serves at all (TRACE, CONNECT, WebDAV's …).
/// Before, the router said 404 and the file middleware served `index.html` to `TRACE /`.
/// CORS preflights (OPTIONS with `Access-Control-Request-Method`) pass to the CORS middleware.
struct MethodGuardMiddleware: AsyncMiddleware {
    private static let routes = OpenAPIRouteTable(OpenAPIDocument.operations.map { ($0.method.uppercased(), $0.path) })

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let method = request.method.rawValue
        if method == "OPTIONS", request.headers.first(name: "Access-Control-Request-Method") != nil {
            return try await next.respond(to: request)
        }
        let allowed = Self.routes.methods(for: request.url.path) ?? ["GET", "HEAD"]
        guard allowed.contains(method) else {
            throw ChatrError(.methodNotAllowed, "Method \(method) is not allowed here", code: "method_not_allowed",
                             headers: ["Allow": allowed.sorted().joined(separator: ", ")])
        }
        return try await next.respond(to: request)
    }
}

/// The documented paths (`/api/groups/{groupId}`) and their methods, matched against request
/// paths segment by segment; a `{…}` segment matches any one segment, `{path}` the rest.
struct OpenAPIRouteTable: Sendable {
    private let entries: [(segments: [String], methods: Set<String>)]

    init(_ operations: [(method: String, path: String)]) {
        var table: [String: Set<String>] = [:]
        for (method, path) in operations {
            table[path, default: []].insert(method)
            if method == "GET" { table[path, default: []].insert("HEAD") }
        }
        entries = table.map { (segments: $0.key.split(separator: "/").map(String.init), methods: $0.value) }
    }

    /// The methods served at `path`, or nil when no documented path matches it. As the router
    /// does, the most literal documented path wins: `/api/users/me` (GET, PUT), not
    /// `/api/users/{username}`.
    func methods(for path: String) -> Set<String>? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let matching = entries.filter { Self.matches($0.segments, parts) }
        guard let fewest = matching.map({ Self.parameterCount($0.segments) }).min() else { return nil }
        return matching.filter { Self.parameterCount($0.segments) == fewest }.reduce(into: Set<String>()) { $0.formUnion($1.methods) }
    }

    private static func parameterCount(_ segments: [String]) -> Int { segments.filter { $0.hasPrefix("{") }.count }

    private static func matches(_ pattern: [String], _ parts: [String]) -> Bool {
        if pattern.last == "{path}" { return parts.count >= pattern.count && zip(pattern.dropLast(), parts).allSatisfy(segment) }
        return pattern.count == parts.count && zip(pattern, parts).allSatisfy(segment)
    }

    private static func segment(_ pair: (String, String)) -> Bool {
        pair.0.hasPrefix("{") || pair.0 == pair.1
    }
}
