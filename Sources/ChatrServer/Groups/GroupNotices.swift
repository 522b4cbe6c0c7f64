import Fluent
import Foundation
import Logging

/// "Alice joined", "Bob left": changes of membership kept in a group's history as messages of
/// type `system`, so every member sees them in order with the messages around them, after a
/// reload and through sync, as in every group chat. The notice's sender is the member it is
/// about and its content says what happened (`joined`, `left`, `added`, `removed`); clients
/// word it. Notices are not messages from a person: they count as nobody's unread, draw no
/// receipts, push or search hits, and cannot be edited, unsent, replied to or reacted to.
struct GroupNotices {
    enum Event: String, CaseIterable { case joined, left, added, removed }

    let services: ChatrServices
    let db: any Database
    var logger = Logger(label: "chatr.groups")

    /// Stores the notice and returns its event for the group's room. The change of membership is
    /// already committed: a notice that cannot be stored is logged and skipped rather than
    /// turning a successful join or leave into an error.
    func post(_ event: Event, about user: User, in groupID: UUID) async -> [RealtimeEvent] {
        guard let userID = user.id else { return [] }
        let message = Message()
        message.id = UUID()
        message.conversationID = groupID
        message.senderID = userID
        message.content = event.rawValue
        message.type = .system
        message.status = .sent
        message.edited = false
        message.createdAt = services.clock.now
        do {
            message.seq = try await services.messageStorage.on(db).insert(message)
        } catch {
            logger.error("could not store the '\(event.rawValue)' notice of user \(userID.wire) in group \(groupID.wire): \(String(reflecting: error))")
            return []
        }
        let dto = MessageDTO(message.stored, conversationKind: .group, sender: user, recipientID: nil, reactions: [], files: services.files)
        return [RealtimeEvent("group:message:received", to: .conversation(groupID), value: EventPayload.encode(dto))]
    }
}
