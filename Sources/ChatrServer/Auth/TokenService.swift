import Fluent
import Foundation
import JWTKit
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

    /// The user and session behind `token`, or `nil` when the token is malformed, forged,
    /// expired or revoked. One query after the signature check.
    /// The user and live session behind a token, or nil when the token is bad, expired or
    /// revoked. A database failure throws instead: a busy server is not a signed-out user.
    func authenticate(_ token: String, on db: any Database) async throws -> (user: User, session: Session)? {
        guard let payload = try? await keys.verify(token, as: AccessTokenPayload.self),
              payload.exp.value > clock.now,
              let userID = UUID(uuidString: payload.userId) else { return nil }
        let now = clock.now
        guard let session = try await Self.liveSessions(on: db, at: now)
            .filter(\.$jti == payload.jti)
            .filter(User.self, \.$id == userID)
            .first(),
            let user = try? session.joined(User.self) else { return nil }
        return (user, session)
    }

    /// The one rule of a valid session: not revoked, not expired, its user not disabled (the
    /// user joined). Token checks and the socket sweep both ask it.
    static func liveSessions(on db: any Database, at now: Date) -> QueryBuilder<Session> {
        Session.query(on: db)
            .join(User.self, on: \Session.$userID == \User.$id)
            .filter(\.$revokedAt == nil)
            .filter(\.$expiresAt > now)
            .filter(User.self, \.$disabledAt == nil)
    }

    func revoke(_ session: Session, on db: any Database) async throws {
        session.revokedAt = clock.now
        try await session.save(on: db)
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
