import Fluent
import Foundation
import JWTKit
import SQLKit
import Vapor

/// The claims of a Chatr access token (SPEC §2): `{userId, username, jti, iat, exp}`.
struct AccessTokenPayload: JWTPayload {
    var userId: String
    var username: String
    var jti: String
    var iat: IssuedAtClaim
    var exp: ExpirationClaim

    /// Signature checks happen in JWTKit; expiry against the app clock happens in `TokenService`,
    /// so tests can move time forward.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Issues and checks HS256 tokens. Every token has a row in `sessions`; a token whose session is
/// revoked or expired is refused even though its signature is valid.
struct TokenService: Sendable {
    let keys: JWTKeyCollection
    let lifetime: TimeInterval
    let clock: AppClock

    static func make(secret: String, lifetime: TimeInterval, clock: AppClock) async -> TokenService {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return TokenService(keys: keys, lifetime: lifetime, clock: clock)
    }

    /// Opens a session for `user` and returns its signed token.
    func issue(for user: User, userAgent: String?, on db: any Database) async throws -> String {
        let now = clock.now
        let jti = UUID().uuidString.lowercased()
        let session = Session(userID: try user.requireID(), jti: jti, createdAt: now,
                              expiresAt: now.addingTimeInterval(lifetime), userAgent: userAgent.map { String($0.prefix(255)) })
        try await session.create(on: db)
        let payload = AccessTokenPayload(userId: try user.requireID().uuidString.lowercased(), username: user.username, jti: jti,
                                         iat: .init(value: now), exp: .init(value: now.addingTimeInterval(lifetime)))
        return try await keys.sign(payload)
    }

    /// The user and live session behind a token, or nil when the token is bad, expired or
    /// revoked. A database failure throws instead: a busy server is not a signed-out user.
    func authenticate(_ token: String, on db: any Database) async throws -> (user: User, sessionID: UUID)? {
        guard let row = try await authenticatedRow(token, columns: "u.*", on: db) else { return nil }
        return (try row.decode(fluentModel: User.self), try row.decode(column: "session_id", as: UUID.self))
    }

    /// The row of `authenticate`'s check with only `columns` of the user `u` (and `session_id`):
    /// a socket needs six of the user's twenty-two columns, and Fluent filling a whole model by
    /// reflection cost more than the query (docs/PERFORMANCE.md, connect rate).
    func authenticatedRow(_ token: String, columns: SQLQueryString, on db: any Database) async throws -> (any SQLRow)? {
        guard let payload = try? await keys.verify(token, as: AccessTokenPayload.self),
              payload.exp.value > clock.now,
              let userID = UUID(uuidString: payload.userId) else { return nil }
        // Plain SQL: this runs on every request and socket connect, and Fluent's join of two
        // models (the statement built and serialised anew, both filled by reflection) cost more
        // than the query itself.
        return try await (db as! any SQLDatabase).raw("""
            SELECT \(columns), x.id AS session_id FROM sessions x JOIN users u ON u.id = x.user_id
            WHERE x.jti = \(bind: payload.jti) AND u.id = \(bind: userID) AND \(Self.live(at: clock.now))
            """).first()
    }

    /// The one rule of a valid session, over `sessions x` joined with its `users u`: not revoked,
    /// not expired, its user not disabled. Token checks, the socket sweep and Web Push ask it.
    static func live(at now: Date) -> SQLQueryString {
        "x.revoked_at IS NULL AND x.expires_at > \(bind: now) AND u.disabled_at IS NULL"
    }

    func revoke(sessionID: UUID, on db: any Database) async throws {
        try await Session.query(on: db).filter(\.$id == sessionID).set(\.$revokedAt, to: clock.now).update()
    }

    /// Ends every session of a user (password reset).
    func revokeAll(userID: UUID, on db: any Database) async throws {
        try await Session.query(on: db)
            .filter(\.$userID == userID)
            .filter(\.$revokedAt == nil)
            .set(\.$revokedAt, to: clock.now)
            .update()
    }
}
