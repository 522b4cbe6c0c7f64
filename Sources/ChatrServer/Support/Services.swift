import Vapor

/// The application's services, built once in `configure` and shared by every request (and,
/// later, every socket handler).
public struct ChatrServices: Sendable {
    public let config: AppConfig
    public let clock: AppClock
    public let outbox: Outbox
    let tokens: TokenService
    let passwords: PasswordHasher
    let codes: VerificationCodes
    let delivery: CodeDelivery
    let files: any FileStorage
    let rateLimiter: RateLimiter
    /// Failed logins per source (per node, like the per-IP limits).
    let loginBackoff: FailureBackoff
    let presence: PresenceRegistry
    let audioProbe: AudioProbe
    let messageStorage: MessageStorage
    let directConversations: DirectConversationCache
    let directConversationCreator = DirectConversationCreator()
    let groupMembers: GroupMembersCache
    let events: EventPublisher
    let typing: TypingTracker
    let syncCursors: SyncCursors
    /// Web Push; nil when the server has no VAPID key (production without `VAPID_*`).
    let push: PushNotifier?
    let linkPreviews: LinkPreviews
    let feedPosition = FeedPosition()
}

extension Application {
    private struct ServicesKey: StorageKey { typealias Value = ChatrServices }

    public var chatr: ChatrServices {
        get {
            guard let services = storage[ServicesKey.self] else { fatalError("configure(_:config:) has not run") }
            return services
        }
        set { storage[ServicesKey.self] = newValue }
    }
}

extension Application {
    private struct ClusterKey: StorageKey { typealias Value = ChatrCluster }

    /// This node's link to the others, in cluster mode.
    var chatrCluster: ChatrCluster? {
        get { storage[ClusterKey.self] }
        set { storage[ClusterKey.self] = newValue }
    }
}

extension Request {
    var chatr: ChatrServices { application.chatr }
}
