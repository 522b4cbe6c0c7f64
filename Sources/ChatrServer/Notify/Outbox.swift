import Foundation
import NIOConcurrencyHelpers
import Vapor

/// One message the dev mailer or dev SMS "sent" (SPEC §1: `GET /api/dev/outbox`).
public struct OutboxEntry: Content, Sendable {
    public var channel: String
    public var to: String
    public var subject: String?
    public var body: String
    public var code: String?
    public var at: Date
}

/// The last 200 dev messages, newest last.
public final class Outbox: Sendable {
    private let entries = NIOLockedValueBox<[OutboxEntry]>([])
    private let capacity = 200

    public init() {}

    func append(_ entry: OutboxEntry) {
        entries.withLockedValue { list in
            list.append(entry)
            if list.count > capacity { list.removeFirst(list.count - capacity) }
        }
    }

    public var all: [OutboxEntry] { entries.withLockedValue { $0 } }

    /// The newest code sent to `to` (tests and the README's manual walk-through use it).
    public func latestCode(to recipient: String) -> String? {
        all.last { $0.to == recipient && $0.code != nil }?.code
    }
}
