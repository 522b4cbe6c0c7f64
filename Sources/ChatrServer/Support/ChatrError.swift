import Vapor

/// The one error type the application throws on purpose. `ErrorMiddleware` turns it (and every
/// other error) into SPEC §2's `{"error", "code"?, "details"?}` body with the matching status.
public struct ChatrError: AbortError, Sendable {
    public var status: HTTPResponseStatus
    public var reason: String
    public var code: String?
    public var details: [String: String]?
    public var headers: HTTPHeaders

    public init(_ status: HTTPResponseStatus, _ reason: String, code: String? = nil,
                details: [String: String]? = nil, headers: HTTPHeaders = [:]) {
        self.status = status
        self.reason = reason
        self.code = code
        self.details = details
        self.headers = headers
    }

    static func badRequest(_ reason: String, code: String? = nil) -> ChatrError { .init(.badRequest, reason, code: code) }
    static func unauthorized(_ reason: String = "Unauthorized") -> ChatrError { .init(.unauthorized, reason) }
    static func forbidden(_ reason: String = "Forbidden") -> ChatrError { .init(.forbidden, reason) }
    static func notFound(_ reason: String = "Not found") -> ChatrError { .init(.notFound, reason) }
    static func conflict(_ reason: String, code: String? = nil) -> ChatrError { .init(.conflict, reason, code: code) }
    static func tooManyRequests(retryAfter seconds: Int, _ reason: String = "Too many requests, try again later") -> ChatrError {
        .init(.tooManyRequests, reason, code: "rate_limited", headers: ["Retry-After": String(max(1, seconds))])
    }
}

/// The JSON body of every error response.
struct ErrorBody: Content {
    var error: String
    var code: String?
    var details: [String: String]?
}
