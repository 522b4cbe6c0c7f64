import Vapor

/// Requires `Authorization: Bearer <jwt>` with a live session; otherwise 401 in SPEC's format.
struct UserAuthMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let token = request.headers.bearerAuthorization?.token else {
            throw ChatrError.unauthorized("Authentication required")
        }
        guard let (user, sessionID) = try await request.chatr.tokens.authenticate(token, on: request.db) else {
            throw ChatrError.unauthorized("Invalid or expired token")
        }
        request.storage[CurrentUserKey.self] = user
        request.storage[CurrentSessionKey.self] = sessionID
        return try await next.respond(to: request)
    }
}

private struct CurrentUserKey: StorageKey { typealias Value = User }
private struct CurrentSessionKey: StorageKey { typealias Value = UUID }

extension Request {
    /// The signed-in user; only valid on routes behind `UserAuthMiddleware`.
    var currentUser: User {
        get throws {
            guard let user = storage[CurrentUserKey.self] else { throw ChatrError.unauthorized("Authentication required") }
            return user
        }
    }

    /// The id of the session the request's token belongs to.
    var currentSessionID: UUID {
        get throws {
            guard let id = storage[CurrentSessionKey.self] else { throw ChatrError.unauthorized("Authentication required") }
            return id
        }
    }
}
