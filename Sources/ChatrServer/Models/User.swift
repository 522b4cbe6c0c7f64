import Fluent
import Foundation
import SQLKit

// @unchecked like every Fluent model: safe because an instance is used by one task at a time
// (docs/DECISIONS.md, "Concurrency").
/// A Chatr account. `username` keeps the user's casing with a leading `@`; `usernameKey` is its
/// lowercase form, unique and indexed, so lookups are case-insensitive and use the index.
public final class User: Model, @unchecked Sendable {
    public static let schema = "users"

    @ID(key: .id) public var id: UUID?
    @OptionalField(key: "email") public var email: String?
    @OptionalField(key: "phone_number") public var phoneNumber: String?
    @Field(key: "username") public var username: String
    @Field(key: "username_key") public var usernameKey: String
    @Field(key: "display_name") public var displayName: String
    @OptionalField(key: "first_name") public var firstName: String?
    @OptionalField(key: "last_name") public var lastName: String?
    /// A line or two about themselves, shown on their profile.
    @OptionalField(key: "bio") public var bio: String?
    @Field(key: "password_hash") public var passwordHash: String
    @OptionalField(key: "profile_image") public var profileImage: String?
    @OptionalField(key: "cover_image") public var coverImage: String?
    @Field(key: "email_verified") public var emailVerified: Bool
    @Field(key: "phone_verified") public var phoneVerified: Bool
    @OptionalField(key: "two_factor_secret") public var twoFactorSecret: String?
    @Field(key: "two_factor_enabled") public var twoFactorEnabled: Bool
    @Field(key: "show_online_status") public var showOnlineStatus: Bool
    @OptionalField(key: "last_seen") public var lastSeen: Date?
    /// Set by `chatr user disable`: no sign-in, no token accepted.
    @OptionalField(key: "disabled_at") public var disabledAt: Date?
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) public var updatedAt: Date?

    public init() {}

    init(id: UUID? = nil, email: String?, phoneNumber: String?, username: String, displayName: String, passwordHash: String) {
        self.id = id
        self.email = email
        self.phoneNumber = phoneNumber
        self.username = username
        self.usernameKey = username.lowercased()
        self.displayName = displayName
        self.passwordHash = passwordHash
        self.emailVerified = false
        self.phoneVerified = false
        self.twoFactorEnabled = false
        self.showOnlineStatus = true
    }

    /// A verified account owns its email, phone and username; an unverified one can be replaced.
    var isVerified: Bool { emailVerified || phoneVerified }
    /// `isVerified` for queries written in plain SQL over `users`.
    static let isVerifiedSQL = SQLRaw("(email_verified OR phone_verified)")
}
