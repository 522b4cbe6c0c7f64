import Vapor

/// The signed-in user's own view of their account (SPEC §4 `user`).
struct UserDTO: Content {
    var id: String
    var email: String?
    var phoneNumber: String?
    var username: String
    var displayName: String
    var firstName: String?
    var lastName: String?
    var bio: String?
    var profileImage: String?
    var coverImage: String?
    var emailVerified: Bool
    var phoneVerified: Bool
    var twoFactorEnabled: Bool
    var showOnlineStatus: Bool
    var lastSeen: Date?
    var createdAt: Date?

    init(_ user: User, files: any FileStorage) {
        id = user.id!.wire
        email = user.email
        phoneNumber = user.phoneNumber
        username = user.username
        displayName = user.displayName
        firstName = user.firstName
        lastName = user.lastName
        bio = user.bio
        profileImage = user.profileImage.map(files.url(for:))
        coverImage = user.coverImage.map(files.url(for:))
        emailVerified = user.emailVerified
        phoneVerified = user.phoneVerified
        twoFactorEnabled = user.twoFactorEnabled
        showOnlineStatus = user.showOnlineStatus
        lastSeen = user.lastSeen
        createdAt = user.createdAt
    }

    // Absent values are sent as `null`, so every client sees the same set of keys.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(email, forKey: .email)
        try c.encode(phoneNumber, forKey: .phoneNumber)
        try c.encode(username, forKey: .username)
        try c.encode(displayName, forKey: .displayName)
        try c.encode(firstName, forKey: .firstName)
        try c.encode(lastName, forKey: .lastName)
        try c.encode(bio, forKey: .bio)
        try c.encode(profileImage, forKey: .profileImage)
        try c.encode(coverImage, forKey: .coverImage)
        try c.encode(emailVerified, forKey: .emailVerified)
        try c.encode(phoneVerified, forKey: .phoneVerified)
        try c.encode(twoFactorEnabled, forKey: .twoFactorEnabled)
        try c.encode(showOnlineStatus, forKey: .showOnlineStatus)
        try c.encode(lastSeen, forKey: .lastSeen)
        try c.encode(createdAt, forKey: .createdAt)
    }
}

/// Another user as anyone signed in may see them: no email, phone or 2FA fields, and
/// `lastSeen` only for contacts (people who share a conversation with the viewer), and never
/// when the user hides their online status.
struct PublicUserDTO: Content {
    var id: String
    var username: String
    var displayName: String
    var firstName: String?
    var lastName: String?
    var bio: String?
    var profileImage: String?
    var coverImage: String?
    var showOnlineStatus: Bool
    var lastSeen: Date?
    var createdAt: Date?

    init(_ user: User, files: any FileStorage, isContact: Bool) {
        id = user.id!.wire
        username = user.username
        displayName = user.displayName
        firstName = user.firstName
        lastName = user.lastName
        bio = user.bio
        profileImage = user.profileImage.map(files.url(for:))
        coverImage = user.coverImage.map(files.url(for:))
        showOnlineStatus = user.showOnlineStatus
        lastSeen = isContact && user.showOnlineStatus ? user.lastSeen : nil
        createdAt = user.createdAt
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(username, forKey: .username)
        try c.encode(displayName, forKey: .displayName)
        try c.encode(firstName, forKey: .firstName)
        try c.encode(lastName, forKey: .lastName)
        try c.encode(bio, forKey: .bio)
        try c.encode(profileImage, forKey: .profileImage)
        try c.encode(coverImage, forKey: .coverImage)
        try c.encode(showOnlineStatus, forKey: .showOnlineStatus)
        try c.encode(lastSeen, forKey: .lastSeen)
        try c.encode(createdAt, forKey: .createdAt)
    }
}

/// What others show of a person, in `user:updated` (no online status, no dates: those come
/// with presence).
struct ProfileCard: Content {
    var id: String
    var username: String
    var displayName: String
    var firstName: String?
    var lastName: String?
    var bio: String?
    var profileImage: String?
    var coverImage: String?

    init(_ user: User, files: any FileStorage) {
        id = user.id!.wire
        username = user.username
        displayName = user.displayName
        firstName = user.firstName
        lastName = user.lastName
        bio = user.bio
        profileImage = user.profileImage.map(files.url(for:))
        coverImage = user.coverImage.map(files.url(for:))
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(username, forKey: .username)
        try c.encode(displayName, forKey: .displayName)
        try c.encode(firstName, forKey: .firstName)
        try c.encode(lastName, forKey: .lastName)
        try c.encode(bio, forKey: .bio)
        try c.encode(profileImage, forKey: .profileImage)
        try c.encode(coverImage, forKey: .coverImage)
    }
}
