import Fluent

/// Every migration, in the order it runs. Append only: a shipped migration is never edited.
enum ChatrMigrations {
    static let all: [any Migration] = [
        CreateUsers(),
        CreateVerificationCodes(),
        CreateSessions(),
        CreateMessaging(),
        AddSQLiteSeqTrigger(),
        CreateRateLimitWindows(),
        AddUserDisabledAt(),
        CreateClusterPresence(),
        CreateChangeFeed(),
        CreateMessageSearch(),
        CreatePushSubscriptions(),
        CreateGroupInvites(),
        AddImageSizeAndBio(),
    ]
}
