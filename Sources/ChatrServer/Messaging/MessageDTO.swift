import Foundation

/// The message shape shared by REST and events (SPEC §3). Absent values are `null`, so every
/// client sees the same keys. An unsent message shows as an empty placeholder.
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
    var reactions: [ReactionDTO]
    var replyTo: ReplyDTO?

    /// - Parameters:
    ///   - sender: the message's sender.
    ///   - recipientID: the other member of a direct conversation; nil for a group.
    ///   - reactions: the message's reactions with their users' usernames.
    init(_ message: Message, conversationKind: Conversation.Kind, sender: User, recipientID: UUID?,
         reactions: [(Reaction, String)], files: any FileStorage) {
        let unsent = message.isUnsent
        id = message.id!.wire
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
        self.reactions = reactions.map { ReactionDTO(userId: $0.0.userID.wire, username: $0.1, emoji: $0.0.emoji) }
        replyTo = message.replyToID.map {
            ReplyDTO(id: $0.wire, content: message.replyToContent ?? "", senderDisplayName: message.replyToSenderName,
                     type: message.replyToType, duration: message.replyToDuration)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(conversationId, forKey: .conversationId)
        try c.encode(senderId, forKey: .senderId)
        try c.encode(senderUsername, forKey: .senderUsername)
        try c.encode(senderDisplayName, forKey: .senderDisplayName)
        try c.encode(senderProfileImage, forKey: .senderProfileImage)
        try c.encode(recipientId, forKey: .recipientId)
        try c.encode(groupId, forKey: .groupId)
        try c.encode(clientMessageId, forKey: .clientMessageId)
        try c.encode(content, forKey: .content)
        try c.encode(type, forKey: .type)
        try c.encode(status, forKey: .status)
        try c.encode(isRead, forKey: .isRead)
        try c.encode(readAt, forKey: .readAt)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(edited, forKey: .edited)
        try c.encode(editedAt, forKey: .editedAt)
        try c.encode(unsent, forKey: .unsent)
        try c.encode(fileUrl, forKey: .fileUrl)
        try c.encode(fileName, forKey: .fileName)
        try c.encode(fileSize, forKey: .fileSize)
        try c.encode(fileType, forKey: .fileType)
        try c.encode(caption, forKey: .caption)
        try c.encode(waveform, forKey: .waveform)
        try c.encode(duration, forKey: .duration)
        try c.encode(reactions, forKey: .reactions)
        try c.encode(replyTo, forKey: .replyTo)
    }
}
