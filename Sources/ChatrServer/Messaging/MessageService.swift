import Fluent
import Foundation
import SQLKit
import SocketIO

/// Every rule about messages (SPEC §6–7): who may send, read, edit, unsend and react, idempotent
/// sends, and status transitions. REST controllers and socket handlers both call it; each
/// method returns what changed and the realtime events to deliver.
struct MessageService {
    let services: ChatrServices
    let db: any Database

    var conversations: Conversations { Conversations(db: db) }
    var assembler: MessageAssembler { MessageAssembler(db: db, files: services.files) }
    var store: any MessageStore { services.messageStorage.on(db) }

    typealias Outcome<Value> = ServiceOutcome<Value>

    // MARK: Sending

    struct SendInput {
        var address: Conversations.Address
        var content: String
        var type: Message.Kind = .text
        var clientMessageID: String?
        var replyToID: UUID?
        var attachment: Attachment?
    }

    /// Stores a message and addresses it to the other members. A repeated `clientMessageID`
    /// returns the first message and no events (`created` false).
    ///
    /// This is the hot path. Once a conversation is known (cached) there is no read before the
    /// write (the unique `(sender, clientMessageId)` index catches repeats), the SQL needs no model
    /// reflection, on SQLite the insert joins a group commit (`MessageBatchWriter`), and the
    /// outgoing message and its event payload are built from what is already in memory.
    func send(from sender: User, _ input: SendInput) async throws -> (message: MessageDTO, created: Bool, events: [RealtimeEvent]) {
        let senderID = try sender.requireID()
        if let problem = MessageRules.contentProblem(input.content) { throw ChatrError.badRequest(problem, code: "content_too_long") }
        if input.attachment == nil && input.content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw ChatrError.badRequest("Message content is required", code: "empty_message")
        }
        if let clientID = input.clientMessageID {
            guard !clientID.isEmpty, clientID.textLength <= MessageRules.maxClientMessageID else {
                throw ChatrError.badRequest("clientMessageId must be 1–\(MessageRules.maxClientMessageID) characters", code: "invalid_client_message_id")
            }
        }
        // Everything is checked before a conversation is created: a refused first message must
        // leave no empty conversation behind (nor let its sender type at the recipient). Only a
        // reply can be refused after this point, and a reply needs an existing conversation.
        guard let target = try await self.target(input.address, for: senderID, create: input.replyToID == nil) else {
            throw input.replyToID != nil ? Self.notInConversation : ChatrError.notFound("Conversation not found")
        }
        let conversationID = target.id
        let reply = try await replySnapshot(input.replyToID, in: conversationID, by: senderID)
        let others = target.members.filter { $0 != senderID }
        let offline = services.presence.notConnected(among: others)
        let anyoneOnline = offline.count < others.count

        let message = Message()
        message.id = UUID()
        message.conversationID = conversationID
        message.senderID = senderID
        message.clientMessageID = input.clientMessageID
        message.content = input.content
        message.type = input.attachment?.messageType ?? input.type
        // The file is stored only once everything else is known to be valid, and removed again
        // if the message cannot be stored: no error leaves a file behind.
        var storedKey: String?
        if let attachment = input.attachment {
            let key = try await services.files.store(attachment.file, folder: "messages", fileExtension: attachment.kind.fileExtension,
                                                     contentType: attachment.kind.mimeType)
            storedKey = key
            message.fileURL = key
            message.fileName = attachment.fileName
            message.fileSize = attachment.file.size
            message.fileType = attachment.kind.mimeType
            message.caption = attachment.caption
            if attachment.kind.isAudio {
                message.audioWaveform = try? String(decoding: JSONEncoder().encode(attachment.waveform ?? Attachment.placeholderWaveform(sha256: attachment.file.sha256)), as: UTF8.self)
                message.audioDuration = attachment.duration
            }
            if let size = attachment.imageSize {
                message.imageWidth = size.width
                message.imageHeight = size.height
            }
        }
        message.status = anyoneOnline ? .delivered : .sent
        message.edited = false
        message.createdAt = services.clock.now
        if let reply {
            message.replyToID = reply.id
            message.replyToContent = reply.content
            message.replyToSenderName = reply.senderName
            message.replyToType = reply.type
            message.replyToDuration = reply.duration
        }
        do {
            // SQLite: joins a group commit; PostgreSQL: one statement (see `MessageStore`).
            let started = ContinuousClock.now
            message.seq = try await store.insert(message)
            ChatrMetrics.shared.storeTime.record(ContinuousClock.now - started)
            ChatrMetrics.shared.messagesSent.increment()
        } catch let error as any DatabaseError where error.isConstraintFailure && input.clientMessageID != nil {
            // A retry: the first message with this clientMessageId stands, and nothing is sent again.
            if let storedKey { try? await services.files.delete(key: storedKey) }
            guard let clientID = input.clientMessageID, let existing = try await store.message(sender: senderID, clientMessageID: clientID) else {
                throw ChatrError.conflict("The message could not be stored: \(String(describing: error))")
            }
            // The same key for another message (another recipient, other words) is a client bug
            // that would silently drop this one: refused, as payment APIs do.
            guard existing.conversationID == conversationID, existing.content == message.content, existing.type == message.type else {
                throw ChatrError.conflict("This clientMessageId was already used for a different message", code: "idempotency_key_reused")
            }
            let (_, conversation, members) = try await messageForMember(existing.requireID(), me: senderID)
            return (try await assembler.dto(existing, conversation: conversation, members: members, knownUsers: [sender]), false, [])
        } catch {
            if let storedKey { try? await services.files.delete(key: storedKey) }
            throw error
        }
        services.push?.messageStored(.init(conversationID: conversationID, messageID: message.id!, kind: target.kind,
                                           senderName: sender.displayName, content: message.content, type: message.type.rawValue,
                                           fileName: message.fileName, caption: message.caption, sentAt: message.createdAt),
                                     offlineRecipients: offline, now: services.clock.now)
        // A new message has no reactions yet: everything the client sees is in memory.
        let dto = MessageDTO(message.stored, conversationKind: target.kind, sender: sender, recipientID: others.first, reactions: [], files: services.files)
        // Encoded once, whatever the number of recipients.
        let payload = EventPayload.encode(dto)
        var events: [RealtimeEvent] = []
        if target.kind == .direct {
            // The first message of a direct conversation: both people's devices join its room.
            if message.seq == 1 {
                events.append(RealtimeEvent.join(target.members, to: conversationID))
                events += try await presenceOnFirstContact(sender, others)
            }
            events += others.map { RealtimeEvent("message:received", to: .user($0), value: payload) }
        } else {
            events.append(RealtimeEvent("group:message:received", to: .conversation(conversationID), except: .user(senderID), value: payload))
        }
        events.append(RealtimeEvent("message:sent", to: .user(senderID), value: payload))
        return (dto, true, events)
    }

    /// Two people who were strangers until this first message may now see each other's presence
    /// (`presence:request` answers contacts only): each one online goes to the other as
    /// `user:status`, as if they had just come online.
    private func presenceOnFirstContact(_ sender: User, _ others: [UUID]) async throws -> [RealtimeEvent] {
        let people = try await User.query(on: db).filter(\.$id ~~ others).all() + [sender]
        var events: [RealtimeEvent] = []
        for person in people {
            let status = Presence.visibleStatus(of: person, registry: services.presence)
            guard status != .offline, let id = person.id else { continue }
            let payload: SocketObject = ["userId": .string(id.wire), "username": .string(person.username), "status": .string(status.rawValue),
                                         "timestamp": .string(ISO8601.string(from: services.clock.now))]
            for viewer in people where viewer.id != id {
                if let viewerID = viewer.id { events.append(RealtimeEvent("user:status", to: .user(viewerID), value: .object(payload))) }
            }
        }
        return events
    }

    /// The conversation a send or a read goes to, with its members; nil when a direct
    /// conversation does not exist yet and `create` is off. Direct conversations and groups come
    /// from caches after the first lookup (a group's entry is dropped whenever its members change).
    private func target(_ address: Conversations.Address, for me: UUID, create: Bool) async throws -> (id: UUID, kind: Conversation.Kind, members: [UUID])? {
        var groupTicket: (id: UUID, ticket: GroupMembersCache.Ticket)?
        switch address {
        case .user(let other):
            guard other != me else { throw ChatrError.badRequest("You cannot message yourself", code: "invalid_recipient") }
            let key = Conversation.directKey(me, other)
            if let hit = services.directConversations.get(key) { return (hit.conversationID, .direct, hit.members) }
            // The first messages of a new pair come close together (and from both sides): one
            // lookup-or-create runs, the others wait for it rather than race it in the database.
            let entry = try await services.directConversations.resolveOnce(key, creating: create) { [conversations, db, services] in
                // A send looks up, and creates if need be, in the creator's next batch, run by the
                // message writer between two of its batches: not two reads per pair, and no
                // transaction beside a batch.
                if create {
                    switch try await services.directConversationCreator.conversation(from: me, to: other, on: db, writer: services.messageStorage.writer,
                                                                                    clock: services.clock) {
                    case .found(let entry): return entry
                    case .recipientNotFound: throw Conversations.recipientNotFound
                    }
                }
                guard let (conversation, members) = try await conversations.resolve(address, for: me) else { return nil }
                return .init(conversationID: try conversation.requireID(), members: members.map(\.userID))
            }
            return entry.map { ($0.conversationID, .direct, $0.members) }
        case .group(let id), .conversation(let id):
            if let members = services.groupMembers.get(id) {
                guard members.contains(me) else { throw ChatrError.forbidden("You are not a member of this conversation") }
                return (id, .group, members)
            }
            groupTicket = (id, services.groupMembers.ticket(id))
        }
        guard let (conversation, members) = try await conversations.resolve(address, for: me) else { return nil }
        let id = try conversation.requireID()
        let memberIDs = members.map(\.userID)
        if let groupTicket, conversation.kind == .group { services.groupMembers.put(id, members: memberIDs, ticket: groupTicket.ticket) }
        return (id, conversation.kind, memberIDs)
    }

    private struct ReplySnapshot { var id: UUID; var content: String; var senderName: String; var type: String; var duration: Double? }

    private static let notInConversation = ChatrError.badRequest("The message you reply to is not in this conversation", code: "invalid_reply")

    private func replySnapshot(_ id: UUID?, in conversationID: UUID, by sender: UUID) async throws -> ReplySnapshot? {
        guard let id else { return nil }
        guard let original = try await store.message(id), original.conversationID == conversationID else { throw Self.notInConversation }
        try Self.refuseNotice(original)
        // Quoting a message from before one joined would reveal it (SPEC §6).
        guard original.seq > (try await conversations.historyFloor(of: sender, in: conversationID)) else { throw Self.notInConversation }
        let sender = try await User.find(original.senderID, on: db)
        return ReplySnapshot(id: id, content: original.isUnsent ? "" : String(original.content.prefix(500)),
                             senderName: sender?.displayName ?? "", type: original.type.rawValue, duration: original.audioDuration)
    }

    /// Notices ("Alice joined", `GroupNotices`) are the server's, not their subject's message.
    private static func refuseNotice(_ message: Message) throws {
        guard message.type == .system else { return }
        throw ChatrError.badRequest("Notices cannot be replied to, reacted to, edited or unsent", code: "system_message")
    }

    // MARK: Receipts

    /// The recipient's device got the message: `sent` becomes `delivered` and the sender hears it.
    func markDelivered(_ messageID: UUID, by user: User) async throws -> [RealtimeEvent] {
        let me = try user.requireID()
        let (message, _, _) = try await messageForMember(messageID, me: me)
        guard message.senderID != me else { throw ChatrError.badRequest("You cannot acknowledge your own message", code: "own_message") }
        guard message.status == .sent, message.type != .system else { return [] }
        message.status = .delivered
        try await store.save(message)
        return [try RealtimeEvent("message:status", to: .user(message.senderID),
                              StatusPayload(messageId: messageID.wire, status: "delivered", timestamp: services.clock.now))]
    }

    struct StatusPayload: Encodable {
        var messageId: String
        var status: String
        var timestamp: Date?
        var readAt: Date?
        /// Who read it (a group's sender counts readers with it).
        var userId: String?
        var conversationId: String?
    }

    /// Marks `upTo` and everything older from others in its conversation read.
    func markRead(upTo messageID: UUID, by user: User) async throws -> [RealtimeEvent] {
        let me = try user.requireID()
        let (message, conversation, members) = try await messageForMember(messageID, me: me)
        guard message.senderID != me else { throw ChatrError.badRequest("You cannot mark your own message as read", code: "own_message") }
        return try await markRead(conversation: conversation, members: members, upTo: message, by: me)
    }

    /// `POST /api/messages/read`: by conversation address; `upToMessageId` optional (newest).
    func markRead(_ address: Conversations.Address, upTo messageID: UUID?, by user: User) async throws -> [RealtimeEvent] {
        let me = try user.requireID()
        guard let (conversation, members) = try await conversations.resolve(address, for: me) else { return [] }
        let conversationID = try conversation.requireID()
        let target: Message?
        if let messageID {
            guard let message = try await store.message(messageID), message.conversationID == conversationID else {
                throw ChatrError.notFound("Message not found in this conversation")
            }
            target = message
        } else {
            target = try await store.newest(in: conversationID, notFrom: me)
        }
        guard let target else { return [] }
        return try await markRead(conversation: conversation, members: members, upTo: target, by: me)
    }

    private func markRead(conversation: Conversation, members: [Member], upTo target: Message, by me: UUID) async throws -> [RealtimeEvent] {
        let now = services.clock.now
        let conversationID = try conversation.requireID()
        let previous = members.first(where: { $0.userID == me })?.lastReadSeq ?? 0
        try await store.markRead(in: conversationID, upTo: target.seq, notFrom: me, at: now)
        if let member = members.first(where: { $0.userID == me }), member.lastReadSeq < target.seq {
            member.lastReadSeq = target.seq
            member.lastReadMessageID = target.id
            member.lastReadAt = now
            try await member.save(on: db)
        }
        // The senders of what was read hear it: in a direct conversation the other person; in a
        // group only those whose messages this read reached — not every member (they would take
        // someone else's receipt for their own read state, and a big group would hear every read).
        let senders = conversation.kind == .direct
            ? Set(members.map(\.userID)).subtracting([me])
            : try await store.senders(in: conversationID, after: previous, upTo: target.seq, notFrom: me)
        guard !senders.isEmpty else { return [] }
        let value = try EventPayload.encode(StatusPayload(messageId: target.id!.wire, status: "read", timestamp: now, readAt: now,
                                                          userId: me.wire, conversationId: conversationID.wire))
        return senders.map { RealtimeEvent("message:status", to: .user($0), value: value) }
    }

    // MARK: Changing messages

    func edit(_ messageID: UUID, content: String, by user: User) async throws -> Outcome<MessageDTO> {
        let me = try user.requireID()
        let (message, conversation, members) = try await messageForMember(messageID, me: me)
        guard message.senderID == me else { throw ChatrError.forbidden("Only the sender can edit a message") }
        guard !message.isUnsent else { throw ChatrError.badRequest("An unsent message cannot be edited", code: "unsent") }
        try Self.refuseNotice(message)
        guard message.type == .text else { throw ChatrError.badRequest("Only text messages can be edited", code: "not_text") }
        if let problem = MessageRules.contentProblem(content) { throw ChatrError.badRequest(problem, code: "content_too_long") }
        guard !content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ChatrError.badRequest("Message content is required", code: "empty_message")
        }
        let now = services.clock.now
        if content != message.content {
            try await store.edit(message, to: content, by: me, at: now)
        }
        struct Edited: Encodable { var messageId: String; var content: String; var editedAt: Date?; var conversationId: String }
        let dto = try await assembler.dto(message, conversation: conversation, members: members, knownUsers: [user])
        return Outcome(value: dto, events: [try RealtimeEvent("message:edited", to: .conversation(conversation.id!),
                                                          Edited(messageId: messageID.wire, content: message.content,
                                                                 editedAt: message.editedAt, conversationId: conversation.id!.wire))])
    }

    func unsend(_ messageID: UUID, by user: User) async throws -> [RealtimeEvent] {
        let me = try user.requireID()
        let (message, conversation, _) = try await messageForMember(messageID, me: me)
        guard message.senderID == me else { throw ChatrError.forbidden("Only the sender can unsend a message") }
        try Self.refuseNotice(message)
        guard !message.isUnsent else { throw ChatrError.badRequest("This message was already unsent", code: "unsent") }
        message.deletedAt = services.clock.now
        try await store.save(message)
        struct Unsent: Encodable { var messageId: String; var senderDisplayName: String; var conversationId: String }
        return [try RealtimeEvent("message:unsent", to: .conversation(conversation.id!),
                              Unsent(messageId: messageID.wire, senderDisplayName: user.displayName, conversationId: conversation.id!.wire))]
    }

    /// Toggles `emoji` for `user`: the same emoji again removes it; another replaces it.
    func react(_ messageID: UUID, emoji rawEmoji: String, by user: User) async throws -> Outcome<[MessageDTO.ReactionDTO]> {
        let me = try user.requireID()
        if let problem = MessageRules.emojiProblem(rawEmoji) { throw ChatrError.badRequest(problem, code: "invalid_emoji") }
        let emoji = rawEmoji.trimmingCharacters(in: .whitespacesAndNewlines)
        let (message, conversation, _) = try await messageForMember(messageID, me: me)
        guard !message.isUnsent else { throw ChatrError.badRequest("An unsent message cannot get reactions", code: "unsent") }
        try Self.refuseNotice(message)
        if let existing = try await Reaction.query(on: db).filter(\.$messageID == messageID).filter(\.$userID == me).first() {
            if existing.emoji == emoji {
                try await existing.delete(on: db)
            } else {
                existing.emoji = emoji
                existing.createdAt = services.clock.now
                try await existing.save(on: db)
            }
        } else {
            try await Reaction(messageID: messageID, userID: me, emoji: emoji, createdAt: services.clock.now).create(on: db)
        }
        let reactions = try await Reaction.query(on: db).filter(\.$messageID == messageID).sort(\.$createdAt).all()
        let names = try await User.query(on: db).filter(\.$id ~~ reactions.map(\.userID)).all()
        let byID = Dictionary(names.map { ($0.id!, $0.username) }, uniquingKeysWith: { a, _ in a })
        let list = reactions.map { MessageDTO.ReactionDTO(userId: $0.userID.wire, username: byID[$0.userID] ?? "", emoji: $0.emoji) }
        struct Reacted: Encodable { var messageId: String; var reactions: [MessageDTO.ReactionDTO]; var conversationId: String }
        return Outcome(value: list, events: [try RealtimeEvent("message:reaction", to: .conversation(conversation.id!),
                                                           Reacted(messageId: messageID.wire, reactions: list, conversationId: conversation.id!.wire))])
    }

    /// Audio playback by a recipient: `listening`, then `listened` when it ends.
    func listening(_ messageID: UUID, isListening: Bool, isEnded: Bool, by user: User) async throws -> [RealtimeEvent] {
        let me = try user.requireID()
        let (message, _, _) = try await messageForMember(messageID, me: me)
        guard message.type == .audio || message.type == .voice else {
            throw ChatrError.badRequest("Only audio messages can be listened to", code: "not_audio")
        }
        guard message.senderID != me else { throw ChatrError.badRequest("You cannot listen to your own message", code: "own_message") }
        let status: Message.Status = isEnded ? .listened : .listening
        if message.status != .listened && (isListening || isEnded) {
            message.status = status
            if message.readAt == nil { message.readAt = services.clock.now }
            try await store.save(message)
        }
        struct Listening: Encodable { var userId: String; var username: String; var messageId: String; var isListening: Bool; var isEnded: Bool }
        return [
            try RealtimeEvent("audio:listening", to: .user(message.senderID),
                          Listening(userId: me.wire, username: user.username, messageId: messageID.wire, isListening: isListening, isEnded: isEnded)),
            try RealtimeEvent("message:status", to: .user(message.senderID),
                          StatusPayload(messageId: messageID.wire, status: message.status.rawValue, timestamp: services.clock.now)),
        ]
    }

    /// `PATCH /api/messages/:id/waveform`: the real waveform computed by a client.
    func setWaveform(_ messageID: UUID, waveform: [Double], duration: Double?, by user: User) async throws -> [RealtimeEvent] {
        let (message, conversation, _) = try await messageForMember(messageID, me: try user.requireID())
        guard message.type == .audio || message.type == .voice else { throw ChatrError.badRequest("Not an audio message", code: "not_audio") }
        guard !message.isUnsent else { throw ChatrError.badRequest("This message was unsent", code: "unsent") }
        if let problem = Attachment.waveformProblem(waveform) { throw ChatrError.badRequest(problem, code: "invalid_waveform") }
        if let duration, let problem = Attachment.durationProblem(duration) { throw ChatrError.badRequest(problem, code: "invalid_duration") }
        message.audioWaveform = String(decoding: try JSONEncoder().encode(waveform), as: UTF8.self)
        if let duration { message.audioDuration = duration }
        try await store.save(message)
        struct WaveformPayload: Encodable { var messageId: String; var waveform: [Double]; var duration: Double?; var conversationId: String }
        return [try RealtimeEvent("audio:waveform", to: .conversation(conversation.id!),
                              WaveformPayload(messageId: messageID.wire, waveform: waveform, duration: message.audioDuration,
                                              conversationId: conversation.id!.wire))]
    }

    /// `message:send` with `messageId`: the message an upload already stored and delivered.
    /// Answering with it (and sending nothing again) makes a double delivery impossible.
    func uploaded(_ messageID: UUID, by user: User) async throws -> MessageDTO {
        let (message, conversation, members) = try await messageForMember(messageID, me: try user.requireID())
        guard message.senderID == user.id else { throw ChatrError.forbidden("Not your message") }
        return try await assembler.dto(message, conversation: conversation, members: members, knownUsers: [user])
    }

    // MARK: Reading

    struct EditEntry: Encodable {
        struct Editor: Encodable { var id: String; var username: String; var displayName: String }
        var id: String
        var previousContent: String
        var editedAt: Date
        var editedBy: Editor
    }

    func edits(of messageID: UUID, for user: User) async throws -> [EditEntry] {
        let me = try user.requireID()
        _ = try await messageForMember(messageID, me: me)
        let edits = try await store.edits(of: messageID)
        let editors = try await User.query(on: db).filter(\.$id ~~ Set(edits.map(\.editedByID)).map { $0 }).all()
        let byID = Dictionary(editors.map { ($0.id!, $0) }, uniquingKeysWith: { a, _ in a })
        return edits.map { edit in
            let editor = byID[edit.editedByID]
            return EditEntry(id: edit.id!.wire, previousContent: edit.previousContent, editedAt: edit.editedAt,
                             editedBy: .init(id: edit.editedByID.wire, username: editor?.username ?? "", displayName: editor?.displayName ?? ""))
        }
    }

    /// A page of history, oldest first. `before` / `after` are message ids; order is by sequence
    /// number, so pages never overlap or skip. Reading marks nothing.
    /// A page of history: the newest (or the page before `before`, or after `after`), or the
    /// page `around` a message — it and the messages just before and after it, for a search hit
    /// opened in its conversation. `hasMore` is about older messages, except after `after`;
    /// `hasMoreAfter` (only with `around`) about newer ones.
    func history(_ address: Conversations.Address, for user: User, limit: Int, before: UUID?, after: UUID?,
                 around: UUID? = nil) async throws -> (messages: [MessageDTO], hasMore: Bool, hasMoreAfter: Bool?) {
        let me = try user.requireID()
        guard (1...MessageRules.historyMax).contains(limit) else {
            throw ChatrError.badRequest("limit must be between 1 and \(MessageRules.historyMax)")
        }
        guard [before, after, around].compactMap({ $0 }).count <= 1 else { throw ChatrError.badRequest("Use one of before, after and around") }
        guard let (conversationID, kind, members) = try await target(address, for: me, create: false) else { return ([], false, around == nil ? nil : false) }
        // A group member sees what was said from when they joined.
        let floor = kind == .group ? try await conversations.historyFloor(of: me, in: conversationID) : 0
        func anchor(_ id: UUID) async throws -> Int64 {
            guard let message = try await store.message(id), message.conversationID == conversationID, message.seq > floor else {
                throw ChatrError.badRequest("The cursor is not a message of this conversation", code: "invalid_cursor")
            }
            return message.seq
        }
        var page: [StoredMessage]
        var hasMore: Bool
        var hasMoreAfter: Bool?
        if let around {
            // The message and up to half the page before it (oldest first), then the rest after it.
            let seq = try await anchor(around)
            let olderCount = limit - limit / 2
            var older = try await store.page(of: conversationID, before: seq + 1, after: nil, floor: floor, limit: olderCount + 1)
            hasMore = older.count > olderCount
            older = Array(older.prefix(olderCount).reversed())
            let newer = try await store.page(of: conversationID, before: nil, after: seq, floor: floor, limit: limit / 2 + 1)
            hasMoreAfter = newer.count > limit / 2
            page = older + newer.prefix(limit / 2)
        } else {
            // Fetch one extra row to learn whether more pages exist in that direction.
            var afterSeq: Int64?, beforeSeq: Int64?
            if let after { afterSeq = try await anchor(after) }
            if let before { beforeSeq = try await anchor(before) }
            page = try await store.page(of: conversationID, before: beforeSeq, after: afterSeq, floor: floor, limit: limit + 1)
            if after == nil { page.reverse() }
            hasMore = page.count > limit
            page = after == nil ? Array(page.suffix(limit)) : Array(page.prefix(limit))
        }
        var context = MessageAssembler.Context(kind: kind, memberIDs: members)
        if kind == .group, !page.isEmpty {
            context.groupReads = (me, try await conversations.readPositions(in: conversationID))
        }
        return (try await assembler.dtos(page, contexts: [conversationID: context], knownUsers: [user]), hasMore, hasMoreAfter)
    }

    /// A message and its conversation, if `me` belongs to it (403 otherwise, 404 if no message).
    private func messageForMember(_ messageID: UUID, me: UUID) async throws -> (Message, Conversation, [Member]) {
        guard let message = try await store.message(messageID) else { throw ChatrError.notFound("Message not found") }
        let (conversation, members) = try await conversations.membership(of: message.conversationID, me: me)
        // A member sees, and acts on, messages from when they joined (SPEC §6), as history and
        // the change feed show them: not the edits, reactions or waveform of older ones.
        guard let mine = members.first(where: { $0.userID == me }), message.seq > mine.historyFromSeq else {
            throw ChatrError.forbidden("This message is from before you joined")
        }
        return (message, conversation, members)
    }
}
