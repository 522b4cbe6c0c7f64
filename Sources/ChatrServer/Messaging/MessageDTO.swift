import Foundation
import SocketIO

/// The message shape shared by REST and events (SPEC §3). Absent values are `null`, so every
/// client sees the same keys. An unsent message shows as an empty placeholder. The wire form is
/// written in one place, `socketValue`; REST encodes that same value.
struct MessageDTO: Codable, Sendable, Equatable {
    struct ReactionDTO: Codable, Sendable, Equatable {
        var userId: String
        var username: String
        var emoji: String
    }

    struct ReplyDTO: Codable, Sendable, Equatable {
        var id: String
        var content: String
        var senderDisplayName: String?
        var type: String?
        var duration: Double?
    }

    var id: String
    var conversationId: String
    var senderId: String
    var senderUsername: String
    var senderDisplayName: String
    var senderProfileImage: String?
    var recipientId: String?
    var groupId: String?
    var clientMessageId: String?
    var content: String
    var type: String
    var status: String
    var isRead: Bool
    var readAt: Date?
    var createdAt: Date
    var edited: Bool
    var editedAt: Date?
    var unsent: Bool
    var fileUrl: String?
    var fileName: String?
    var fileSize: Int?
    var fileType: String?
    var caption: String?
    var waveform: [Double]?
    var duration: Double?
    /// Images: the picture's size, so clients reserve its box before it loads.
    var imageWidth: Int?
    var imageHeight: Int?
    var reactions: [ReactionDTO]
    var replyTo: ReplyDTO?
    /// Groups, on the viewer's own messages: the members who have read it (null elsewhere).
    var readBy: [String]?

    /// The JSON of REST is the event payload (`socketValue`): one definition of the wire shape.
    func encode(to encoder: any Encoder) throws {
        try socketValue.encode(to: encoder)
    }
}

// In an extension, so that the memberwise initialiser stays available.
extension MessageDTO {
    /// - Parameters:
    ///   - sender: the message's sender.
    ///   - recipientID: the other member of a direct conversation; nil for a group.
    ///   - reactions: the message's reactions with their users' usernames.
    init(_ message: StoredMessage, conversationKind: Conversation.Kind, sender: User, recipientID: UUID?,
         reactions: [(Reaction, String)], files: any FileStorage) {
        let unsent = message.isUnsent
        id = message.id.wire
        conversationId = message.conversationID.wire
        senderId = message.senderID.wire
        senderUsername = sender.username
        senderDisplayName = sender.displayName
        senderProfileImage = sender.profileImage.map(files.url(for:))
        recipientId = conversationKind == .direct ? recipientID?.wire : nil
        groupId = conversationKind == .group ? message.conversationID.wire : nil
        clientMessageId = message.clientMessageID
        content = unsent ? "" : message.content
        type = message.type.rawValue
        status = message.status.rawValue
        isRead = message.status == .read || message.status == .listened || message.readAt != nil
        readAt = message.readAt
        createdAt = message.createdAt
        edited = unsent ? false : message.edited
        editedAt = unsent ? nil : message.editedAt
        self.unsent = unsent
        fileUrl = unsent ? nil : message.fileURL.map(files.url(for:))
        fileName = unsent ? nil : message.fileName
        fileSize = unsent ? nil : message.fileSize
        fileType = unsent ? nil : message.fileType
        caption = unsent ? nil : message.caption
        waveform = unsent ? nil : message.audioWaveform.flatMap { try? JSONDecoder().decode([Double].self, from: Data($0.utf8)) }
        duration = unsent ? nil : message.audioDuration
        imageWidth = unsent ? nil : message.imageWidth
        imageHeight = unsent ? nil : message.imageHeight
        self.reactions = reactions.map { ReactionDTO(userId: $0.0.userID.wire, username: $0.1, emoji: $0.0.emoji) }
        replyTo = message.replyToID.map {
            ReplyDTO(id: $0.wire, content: message.replyToContent ?? "", senderDisplayName: message.replyToSenderName,
                     type: message.replyToType, duration: message.replyToDuration)
        }
        readBy = nil
    }

    /// In a group, read state is per person: `isRead` is whether *the viewer* has read another
    /// member's message (their `last_read_seq`), and on the viewer's own message who of the
    /// others has read it. (`status` stays the message's furthest state, for the sender's line.)
    mutating func applyGroupReads(viewer: UUID, seq: Int64, readSeqs: [UUID: Int64]) {
        guard groupId != nil else { return }
        if senderId == viewer.wire {
            let readers = readSeqs.filter { $0.key != viewer && $0.value >= seq }.map(\.key.wire).sorted()
            readBy = readers
            isRead = !readers.isEmpty
        } else {
            isRead = (readSeqs[viewer] ?? 0) >= seq
        }
    }
}

extension MessageDTO {
    /// The wire form, built directly (no round trip through an encoder: every send builds one, and
    /// it was the largest single cost on the send path). REST's JSON is this value encoded.
    var socketValue: SocketValue {
        func string(_ value: String?) -> SocketValue { value.map(SocketValue.string) ?? .null }
        func number(_ value: Double?) -> SocketValue { value.map(SocketValue.number) ?? .null }
        func date(_ value: Date?) -> SocketValue { value.map { .string(ISO8601.string(from: $0)) } ?? .null }
        typealias Entry = SocketObject.Entry
        let entries: [Entry] = [
            Entry(key: "id", value: .string(id)),
            Entry(key: "conversationId", value: .string(conversationId)),
            Entry(key: "senderId", value: .string(senderId)),
            Entry(key: "senderUsername", value: .string(senderUsername)),
            Entry(key: "senderDisplayName", value: .string(senderDisplayName)),
            Entry(key: "senderProfileImage", value: string(senderProfileImage)),
            Entry(key: "recipientId", value: string(recipientId)),
            Entry(key: "groupId", value: string(groupId)),
            Entry(key: "clientMessageId", value: string(clientMessageId)),
            Entry(key: "content", value: .string(content)),
            Entry(key: "type", value: .string(type)),
            Entry(key: "status", value: .string(status)),
            Entry(key: "isRead", value: .bool(isRead)),
            Entry(key: "readAt", value: date(readAt)),
            Entry(key: "createdAt", value: date(createdAt)),
            Entry(key: "edited", value: .bool(edited)),
            Entry(key: "editedAt", value: date(editedAt)),
            Entry(key: "unsent", value: .bool(unsent)),
            Entry(key: "fileUrl", value: string(fileUrl)),
            Entry(key: "fileName", value: string(fileName)),
            Entry(key: "fileSize", value: number(fileSize.map(Double.init))),
            Entry(key: "fileType", value: string(fileType)),
            Entry(key: "caption", value: string(caption)),
            Entry(key: "waveform", value: waveform.map { .array($0.map(SocketValue.number)) } ?? .null),
            Entry(key: "duration", value: number(duration)),
            Entry(key: "imageWidth", value: number(imageWidth.map(Double.init))),
            Entry(key: "imageHeight", value: number(imageHeight.map(Double.init))),
            Entry(key: "reactions", value: .array(reactions.map { reaction in
                .object(SocketObject(distinctKeys: [Entry(key: "userId", value: .string(reaction.userId)),
                                                    Entry(key: "username", value: .string(reaction.username)),
                                                    Entry(key: "emoji", value: .string(reaction.emoji))]))
            })),
            Entry(key: "replyTo", value: replyTo.map { reply in
                // Synthesised `Codable` leaves absent optionals out here, rather than null.
                var fields = [Entry(key: "id", value: .string(reply.id)), Entry(key: "content", value: .string(reply.content))]
                if let name = reply.senderDisplayName { fields.append(Entry(key: "senderDisplayName", value: .string(name))) }
                if let type = reply.type { fields.append(Entry(key: "type", value: .string(type))) }
                if let duration = reply.duration { fields.append(Entry(key: "duration", value: .number(duration))) }
                return .object(SocketObject(distinctKeys: fields))
            } ?? .null),
            Entry(key: "readBy", value: readBy.map { .array($0.map(SocketValue.string)) } ?? .null),
        ]
        return .object(SocketObject(distinctKeys: entries))
    }
}
