import Fluent
import SQLKit
import Vapor

/// Reading and changing user profiles (SPEC §5).
struct UserService {
    let services: ChatrServices
    let db: any Database

    struct ProfileChanges {
        var displayName: String?
        var firstName: String?
        var lastName: String?
        var bio: String?
        var showOnlineStatus: Bool?
    }

    func update(_ user: User, with changes: ProfileChanges) async throws {
        if let displayName = changes.displayName?.trimmingCharacters(in: .whitespacesAndNewlines) {
            guard (1...CredentialRules.maxDisplayName).contains(displayName.textLength) else {
                throw ChatrError.badRequest("Display name must be 1–\(CredentialRules.maxDisplayName) characters", code: "invalid_display_name")
            }
            user.displayName = displayName
        }
        for (value, apply) in [(changes.firstName, { (v: String?) in user.firstName = v }), (changes.lastName, { user.lastName = $0 })] {
            guard let value = value?.trimmingCharacters(in: .whitespacesAndNewlines) else { continue }
            guard value.textLength <= CredentialRules.maxPersonName else {
                throw ChatrError.badRequest("Names must be at most \(CredentialRules.maxPersonName) characters", code: "invalid_name")
            }
            apply(value.isEmpty ? nil : value)
        }
        if let bio = changes.bio?.trimmingCharacters(in: .whitespacesAndNewlines) {
            guard bio.textLength <= CredentialRules.maxBio else {
                throw ChatrError.badRequest("A bio must be at most \(CredentialRules.maxBio) characters", code: "invalid_bio")
            }
            // Blank lines inside are squeezed: a bio is shown in a line or two, not as a page.
            let lines = bio.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            user.bio = lines.isEmpty ? nil : lines.joined(separator: "\n")
        }
        if let show = changes.showOnlineStatus { user.showOnlineStatus = show }
        try await user.save(on: db)
    }

    /// Verified users except `me`, in username order, paged after the last user seen.
    /// Usernames are unique, so the order is total and a page never repeats or skips anyone.
    func list(excluding me: UUID, limit: Int, after cursor: UUID?) async throws -> (users: [User], nextCursor: UUID?) {
        var query = verifiedUsers().filter(\.$id != me)
        if let cursor {
            guard let anchor = try await User.find(cursor, on: db) else { throw ChatrError.badRequest("Invalid cursor") }
            query = query.filter(\.$usernameKey > anchor.usernameKey)
        }
        let page = try await query.sort(\.$usernameKey).limit(limit + 1).all()
        let users = Array(page.prefix(limit))
        return (users, page.count > limit ? users.last?.id : nil)
    }

    /// Up to 20 verified users whose username or display name contains `text`, case-insensitively.
    func search(_ text: String, excluding me: UUID) async throws -> [User] {
        let needle = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !needle.isEmpty else { return [] }
        let pattern = "%" + Self.escapeLike(needle) + "%"
        let matches: SQLQueryString = """
            (LOWER(\(ident: "display_name")) LIKE \(bind: pattern) ESCAPE '\\' OR \(ident: "username_key") LIKE \(bind: pattern) ESCAPE '\\')
            """
        return try await verifiedUsers().filter(\.$id != me).filter(.sql(matches))
            .sort(\.$usernameKey).limit(20).all()
    }

    func find(username raw: String) async throws -> User? {
        guard let username = CredentialRules.normalizedUsername(raw) else { return nil }
        return try await User.query(on: db).filter(\.$usernameKey == username.lowercased()).first()
    }

    func isAvailable(username: String) async throws -> Bool {
        // An unverified account does not hold its username (registration replaces it).
        try await User.query(on: db).filter(\.$usernameKey == username.lowercased())
            .group(.or) { $0.filter(\.$emailVerified == true).filter(\.$phoneVerified == true) }
            .count() == 0
    }

    /// Up to five free names close to `base`, checked in one query.
    func suggestions(for raw: String) async throws -> [String] {
        var stem = String(raw.trimmingCharacters(in: .whitespaces).drop(while: { $0 == "@" })
            .filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }.prefix(16))
        if stem.count < 3 { stem += String(repeating: "_", count: 3 - stem.count).replacingOccurrences(of: "_", with: "x") }
        var candidates = [stem, stem + "_", "the_" + stem, stem + "_chat"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<12 { candidates.append(stem + String(Int.random(in: 10...9999, using: &generator))) }
        let valid = candidates.compactMap(CredentialRules.normalizedUsername)
        let taken = Set(try await User.query(on: db).filter(\.$usernameKey ~~ valid.map { $0.lowercased() })
            .group(.or) { $0.filter(\.$emailVerified == true).filter(\.$phoneVerified == true) }
            .all(\.$usernameKey))
        var seen = Set<String>()
        return Array(valid.filter { !taken.contains($0.lowercased()) && seen.insert($0.lowercased()).inserted }.prefix(5))
    }

    private func verifiedUsers() -> QueryBuilder<User> {
        User.query(on: db).group(.or) { $0.filter(\.$emailVerified == true).filter(\.$phoneVerified == true) }
    }

    private static func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }
}
