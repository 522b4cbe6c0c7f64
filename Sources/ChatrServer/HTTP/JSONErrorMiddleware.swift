import Vapor

/// Replaces Vapor's default error middleware: every failure — thrown by a handler, an unknown
/// route, malformed JSON, a body over the limit — leaves as `{"error": …}` JSON with a
/// meaningful status, never a stack trace or an HTML page.
struct JSONErrorMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            return Self.response(for: error, request: request)
        }
    }

    static func response(for error: any Error, request: Request) -> Response {
        let (status, body, headers) = describe(error)
        if status.code >= 500 {
            request.logger.report(error: error)
        }
        let response = Response(status: status, headers: headers)
        do {
            try response.content.encode(body, as: .json)
        } catch {
            response.body = .init(string: #"{"error":"Internal server error"}"#)
            response.headers.contentType = .json
        }
        return response
    }

    static func describe(_ error: any Error) -> (HTTPResponseStatus, ErrorBody, HTTPHeaders) {
        switch error {
        case let error as ChatrError:
            return (error.status, ErrorBody(error: error.reason, code: error.code, details: error.details), error.headers)
        case let error as DecodingError:
            return (.badRequest, ErrorBody(error: Self.message(for: error), code: "invalid_input"), [:])
        case let error as any AbortError where error.status == .unprocessableEntity:
            // Vapor's answer to an empty or undecodable body; SPEC §2 calls that invalid input.
            return (.badRequest, ErrorBody(error: error.reason == "Empty Body" || error.reason.isEmpty ? "Request body is empty" : error.reason,
                                           code: "invalid_input"), [:])
        case let error as any AbortError:
            var headers = error.headers
            headers.remove(name: .contentType)
            headers.remove(name: .contentLength)
            return (error.status, ErrorBody(error: Self.message(for: error)), headers)
        default:
            return (.internalServerError, ErrorBody(error: "Internal server error"), [:])
        }
    }

    private static func message(for error: any AbortError) -> String {
        switch error.status {
        case .notFound: return "Not found"
        case .payloadTooLarge: return "Request body is too large"
        case .unsupportedMediaType: return "Unsupported media type"
        case .badRequest where error.reason.isEmpty || error.reason == "Bad Request": return "Invalid request"
        default: return error.reason
        }
    }

    /// Names the offending field without echoing Swift type names or internals.
    private static func message(for error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return "Malformed JSON"
        case .dataCorrupted(let context):
            return "Invalid value for '\(path(context.codingPath))'"
        case .keyNotFound(let key, let context):
            return "Missing field '\(path(context.codingPath + [key]))'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            let field = path(context.codingPath)
            return field.isEmpty ? "Invalid request body" : "Wrong type for '\(field)'"
        @unknown default:
            return "Invalid request body"
        }
    }
}
