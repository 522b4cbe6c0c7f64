import Crypto
import Fluent
import Foundation
import SQLKit

/// Issues and checks one-time codes: stored as a keyed hash, single use, expiring, and locked
/// after `maxAttempts` wrong tries. Issuing a new code retires the previous one.
struct VerificationCodes: Sendable {
    static let maxAttempts = 5
    let key: SymmetricKey
    let clock: AppClock

    init(secret: String, clock: AppClock) {
        self.key = SymmetricKey(data: SHA256.hash(data: Data(("verification-codes:" + secret).utf8)))
        self.clock = clock
    }

    func issue(for userID: UUID, purpose: VerificationCode.Purpose, validFor lifetime: TimeInterval, on db: any Database) async throws -> String {
        let code = RandomBytes.digits(6)
        let now = clock.now
        try await retireOutstanding(userID: userID, purpose: purpose, on: db)
        try await VerificationCode(userID: userID, purpose: purpose, codeHash: hash(code, userID: userID, purpose: purpose),
                                   expiresAt: now.addingTimeInterval(lifetime), createdAt: now).create(on: db)
        return code
    }

    /// When the last code for this purpose was sent to this user (resend throttling).
    func lastIssue(for userID: UUID, purpose: VerificationCode.Purpose, on db: any Database) async throws -> Date? {
        try await VerificationCode.query(on: db).filter(\.$userID == userID).filter(\.$purpose == purpose)
            .sort(\.$createdAt, .descending).first()?.createdAt
    }

    /// Checks `code` against the user's live code for `purpose`. A wrong code counts an attempt.
    /// When `consume` is false the code stays usable (the 2FA step of login needs it again).
    @discardableResult
    func check(_ code: String, for userID: UUID, purpose: VerificationCode.Purpose, consume: Bool = true,
               on db: any Database) async throws -> VerificationCode {
        guard let record = try await VerificationCode.query(on: db)
            .filter(\.$userID == userID).filter(\.$purpose == purpose).filter(\.$consumedAt == nil)
            .sort(\.$createdAt, .descending).first()
        else { throw ChatrError.badRequest("Invalid or expired code", code: "invalid_code") }
        guard record.expiresAt > clock.now else {
            throw ChatrError.badRequest("This code has expired; request a new one", code: "code_expired")
        }
        // An attempt is counted before the code is compared, in one conditional UPDATE: of any
        // number of concurrent tries, at most `maxAttempts` are ever compared (counting after
        // comparing let 31 of 59 concurrent guesses through, their increments overwriting each
        // other). The right code gives its attempt back.
        let sql = db as! any SQLDatabase
        let id = try record.requireID()
        guard let counted = try await sql.raw("""
            UPDATE verification_codes SET attempts = attempts + 1
            WHERE id = \(bind: id) AND attempts < \(bind: Self.maxAttempts) AND consumed_at IS NULL RETURNING attempts
            """).first()?.decode(column: "attempts", as: Int.self) else {
            throw ChatrError.badRequest("Too many wrong attempts; request a new code", code: "code_locked")
        }
        let trimmed = code.filter { !$0.isWhitespace }
        guard constantTimeEquals(hash(trimmed, userID: userID, purpose: purpose), record.codeHash) else {
            record.attempts = counted
            let left = Self.maxAttempts - counted
            throw ChatrError(.badRequest, left > 0 ? "Invalid code" : "Too many wrong attempts; request a new code",
                             code: left > 0 ? "invalid_code" : "code_locked", details: ["attemptsLeft": String(left)])
        }
        try await sql.raw("UPDATE verification_codes SET attempts = attempts - 1 WHERE id = \(bind: id) AND attempts > 0").run()
        record.attempts = counted - 1
        if consume { try await self.consume(record, on: db) }
        return record
    }

    /// A wrong second factor after a right code: one more attempt, counted atomically.
    func recordFailure(_ record: VerificationCode, on db: any Database) async throws {
        try await (db as! any SQLDatabase).raw(
            "UPDATE verification_codes SET attempts = attempts + 1 WHERE id = \(bind: try record.requireID())").run()
        record.attempts += 1
    }

    func consume(_ record: VerificationCode, on db: any Database) async throws {
        // One conditional UPDATE … RETURNING: of two concurrent uses of one code, only one wins.
        let now = clock.now
        let rows = try await (db as! any SQLDatabase).update(VerificationCode.schema)
            .set("consumed_at", to: SQLBind(now))
            .where("id", .equal, SQLBind(try record.requireID()))
            .where("consumed_at", .is, SQLLiteral.null)
            .returning("id")
            .all()
        guard !rows.isEmpty else { throw ChatrError.badRequest("Invalid or expired code", code: "invalid_code") }
        record.consumedAt = now
    }

    private func retireOutstanding(userID: UUID, purpose: VerificationCode.Purpose, on db: any Database) async throws {
        try await VerificationCode.query(on: db)
            .filter(\.$userID == userID).filter(\.$purpose == purpose).filter(\.$consumedAt == nil)
            .set(\.$consumedAt, to: clock.now).update()
    }

    private func hash(_ code: String, userID: UUID, purpose: VerificationCode.Purpose) -> String {
        let message = Data("\(userID.uuidString.lowercased()):\(purpose.rawValue):\(code)".utf8)
        return HMAC<SHA256>.authenticationCode(for: message, using: key).map { String(format: "%02x", $0) }.joined()
    }
}
