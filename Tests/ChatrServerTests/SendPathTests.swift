import Fluent
import SocketIO
import SQLKit
import NIOConcurrencyHelpers
import XCTVapor
@testable import ChatrServer

/// The parts of the send path built for speed must say exactly what the plain versions say:
/// group commit (SQLite) and the event payload built without `JSONEncoder`.
final class SendPathTests: ChatrTestCase {
    func user(_ who: (id: String, token: String)) async throws -> User {
        let found = try await User.find(UUID(uuidString: who.id), on: app.db)
        return try XCTUnwrap(found)
    }

    var service: MessageService { MessageService(services: services, db: app.db) }

    /// Many sends at once, to three conversations, with one clientMessageId sent twice in the
    /// same burst: each conversation's sequence numbers are 1…n without gaps or repeats, the
    /// repeat is stored once, and every send's answer matches what was stored.
    func testConcurrentSendsAreNumberedWithoutGapsOrRepeats() async throws {
        let ann = try await user(try await makeUser("ann"))
        let bob = try await user(try await makeUser("bob"))
        let cat = try await user(try await makeUser("cat"))
        // The conversations exist first, so that the burst is all appends.
        for (from, to) in [(ann, bob), (ann, cat), (bob, cat)] {
            _ = try await service.send(from: from, .init(address: .user(try to.requireID()), content: "hello"))
        }
        let routes = [(ann, bob), (bob, ann), (ann, cat), (cat, bob)]
        let results = try await withThrowingTaskGroup(of: (MessageDTO, Bool).self) { group in
            for index in 0..<120 {
                let (from, to) = routes[index % routes.count]
                // Sends 0 and 4 are both ann → bob: the same message, retried with its clientMessageId.
                let clientID = index == 4 ? "burst-0" : "burst-\(index)"
                let input = MessageService.SendInput(address: .user(try to.requireID()), content: index == 4 ? "m0" : "m\(index)",
                                                     clientMessageID: clientID)
                let service = self.service
                group.addTask { let sent = try await service.send(from: from, input); return (sent.message, sent.created) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(results.count(where: { !$0.1 }), 1, "the repeated clientMessageId is answered with the first message")
        let repeats = results.filter { $0.0.clientMessageId == "burst-0" }
        XCTAssertEqual(Set(repeats.map(\.0.id)).count, 1)

        let stored = try await Message.query(on: app.db).all()
        XCTAssertEqual(stored.count, 3 + 119)
        for (conversationID, messages) in Dictionary(grouping: stored, by: \.conversationID) {
            XCTAssertEqual(messages.map(\.seq).sorted(), Array(1...Int64(messages.count)), "no gaps, no repeats")
            let found = try await Conversation.find(conversationID, on: app.db)
            let conversation = try XCTUnwrap(found)
            XCTAssertEqual(conversation.lastSeq, Int64(messages.count), "the conversation moved with its messages")
        }
        let byID = Dictionary(uniqueKeysWithValues: stored.map { ($0.id!.wire, $0) })
        for (dto, _) in results {
            let row = try XCTUnwrap(byID[dto.id])
            XCTAssertEqual(row.content, dto.content)
            XCTAssertEqual(row.clientMessageID, dto.clientMessageId)
        }
        XCTAssertGreaterThan(services.messageStorage.writer.largestBatch, 1, "the burst was written in batches (SQLite and PostgreSQL)")
    }

    /// A batch that cannot be stored as a whole stores nothing; the writer then stores its
    /// messages one by one, so only the bad one fails.
    func testABatchWithOneBadMessageFailsAloneAndStoresTheRest() async throws {
        let ann = try await user(try await makeUser("ann"))
        let bob = try await user(try await makeUser("bob"))
        let first = try await service.send(from: ann, .init(address: .user(try bob.requireID()), content: "first", clientMessageID: "taken"))
        let conversationID = try XCTUnwrap(UUID(uuidString: first.message.conversationId))
        func message(_ content: String, clientID: String?, in conversation: UUID = conversationID) -> Message {
            let message = Message()
            message.id = UUID()
            message.conversationID = conversation
            message.senderID = ann.id!
            message.clientMessageID = clientID
            message.content = content
            message.type = .text
            message.status = .sent
            message.edited = false
            message.createdAt = Date()
            return message
        }
        let sql = app.db as! any SQLDatabase
        let onPostgres = sql.dialect.name == "postgresql"
        let batch = [message("a", clientID: "fresh"), message("b", clientID: "taken"), message("c", clientID: nil)]
        do {
            // PostgreSQL's batch is a transaction: it needs one connection throughout.
            _ = try await sql.withSession { session in
                onPostgres ? try await PostgresMessageStore.insertAll(batch, on: session) : try await SQLiteMessageStore.insertAll(batch, on: session)
            }
            XCTFail("a repeated clientMessageId fails the statement")
        } catch {}
        var count = try await Message.query(on: app.db).count()
        XCTAssertEqual(count, 1, "the failed batch stored nothing")

        let store: MessageBatchWriter.StoreBatch = onPostgres ? PostgresMessageStore.store : SQLiteMessageStore.store
        let outcomes = await store(batch + [message("lost", clientID: nil, in: UUID())], sql)
        XCTAssertEqual(try outcomes[0].get(), 2)
        XCTAssertThrowsError(try outcomes[1].get(), "the repeat fails")
        XCTAssertEqual(try outcomes[2].get(), 3, "numbered after the one before")
        XCTAssertThrowsError(try outcomes[3].get(), "a message to no conversation fails")
        count = try await Message.query(on: app.db).count()
        XCTAssertEqual(count, 3)
    }

    /// Two instances' batch writers on one PostgreSQL, writing into the same conversations at
    /// once: their batches queue on the conversations' row locks — no repeated or missing number.
    func testTwoInstancesBatchesIntoOneConversationNeverCollide() async throws {
        let sql = app.db as! any SQLDatabase
        guard sql.dialect.name == "postgresql" else { throw XCTSkip("several writers exist only on PostgreSQL") }
        let ann = try await user(try await makeUser("ann"))
        let bob = try await user(try await makeUser("bob"))
        let first = try await service.send(from: ann, .init(address: .user(try bob.requireID()), content: "first"))
        let conversationID = try XCTUnwrap(UUID(uuidString: first.message.conversationId))
        let nodes = [MessageBatchWriter(storeBatch: PostgresMessageStore.store), MessageBatchWriter(storeBatch: PostgresMessageStore.store)]
        let seqs = try await withThrowingTaskGroup(of: Int64.self) { group in
            for index in 0..<200 {
                let message = Message()
                message.id = UUID()
                message.conversationID = conversationID
                message.senderID = index % 2 == 0 ? ann.id! : bob.id!
                message.content = "m\(index)"
                message.type = .text
                message.status = .sent
                message.edited = false
                message.createdAt = Date()
                let writer = nodes[index % 2]
                group.addTask { try await writer.insert(message, on: sql) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(seqs.sorted(), Array(2...201))
        XCTAssertTrue(nodes.contains { $0.largestBatch > 1 }, "batches, not one statement each")
        let conversation = try await Conversation.find(conversationID, on: app.db)
        XCTAssertEqual(conversation?.lastSeq, 201)
    }

    /// History reads rows with plain SQL and writes JSON without `JSONEncoder`: each message must
    /// come out exactly as the model-based path (Fluent decode + `JSONEncoder`) shows it.
    func testHistoryShowsMessagesExactlyAsTheModelPathDoes() async throws {
        let annRef = try await makeUser("ann"), bobRef = try await makeUser("bob")
        let ann = try await user(annRef), bob = try await user(bobRef)
        let first = try await service.send(from: ann, .init(address: .user(bob.id!), content: "Lunch? <b>&</b> 😀", clientMessageID: "c-1"))
        let reply = try await service.send(from: bob, .init(address: .user(ann.id!), content: "Yes",
                                                            replyToID: UUID(uuidString: first.message.id)))
        _ = try await service.react(UUID(uuidString: first.message.id)!, emoji: "👍", by: bob)
        _ = try await service.edit(UUID(uuidString: reply.message.id)!, content: "Yes!", by: bob)
        _ = try await service.unsend(UUID(uuidString: first.message.id)!, by: ann)
        _ = try await service.send(from: ann, .init(address: .user(bob.id!), content: "third"))

        let page = try await send(.GET, "/api/messages/history?otherUserId=\(bobRef.id)", token: annRef.token)
        XCTAssertEqual(page.status, .ok)
        XCTAssertEqual(page.headers.contentType, .json)
        let shown = try XCTUnwrap(page.json["messages"]?.array)
        XCTAssertEqual(shown.count, 3)
        XCTAssertEqual(page.json["hasMore"], false)
        let conversations = Conversations(db: app.db)
        for item in shown {
            let id = try XCTUnwrap(UUID(uuidString: item["id"]?.string ?? ""))
            let found = try await Message.find(id, on: app.db)  // by Fluent, not by the store's SQL
            let message = try XCTUnwrap(found)
            let (conversation, members) = try await conversations.membership(of: message.conversationID, me: ann.id!)
            let viaModels = try await service.assembler.dto(message, conversation: conversation, members: members)
            let expected = try JSONDecoder().decode(JSONValue.self, from: try JSONEncoder().encode(viaModels))
            // Dates through the app's encoder (ISO 8601 with milliseconds), as REST sends them.
            XCTAssertEqual(item["createdAt"]?.string, ISO8601.string(from: viaModels.createdAt))
            XCTAssertEqual(item["editedAt"]?.string, viaModels.editedAt.map(ISO8601.string(from:)))
            func withoutDates(_ value: JSONValue) -> JSONValue {
                guard case .object(var object) = value else { return value }
                for key in ["createdAt", "editedAt", "readAt"] { object[key] = nil }
                return .object(object)
            }
            XCTAssertEqual(withoutDates(item), withoutDates(expected))
        }
        XCTAssertEqual(shown[1]["replyTo"]?["content"], "Lunch? <b>&</b> 😀")
        XCTAssertEqual(shown[1]["content"], "Yes!")
        XCTAssertEqual(shown[0]["unsent"], true)
    }

    /// The wire shape is written once (`socketValue`): REST's JSON is that value, every field of
    /// the type is on the wire (decoding the JSON back with the type's own synthesised `Decodable`
    /// gives the same message), and absent values are null — for a message with every field set
    /// and one with none of the optional ones.
    func testAMessageHasOneWireShapeForRESTAndEvents() throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(ISO8601.string(from: date))
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            try XCTUnwrap(ISO8601.date(from: try decoder.singleValueContainer().decode(String.self)))
        }
        func check(_ message: MessageDTO, file: StaticString = #filePath, line: UInt = #line) throws {
            let json = try encoder.encode(message)
            XCTAssertEqual(try decoder.decode(MessageDTO.self, from: json), message, "no field is missing from the wire", file: file, line: line)
            XCTAssertEqual(message.socketValue.objectValue?.count, 30, "every key, null or not", file: file, line: line)
        }
        // Dates on whole milliseconds, so they survive the trip through text exactly.
        let full = MessageDTO(
            id: UUID().wire, conversationId: UUID().wire, senderId: UUID().wire, senderUsername: "@ann", senderDisplayName: "Ann \"A\" <b>",
            senderProfileImage: "http://x/p.png", recipientId: UUID().wire, groupId: nil, clientMessageId: "c-1", content: "héllo\n😀 \\ \u{1}",
            type: "voice", status: "read", isRead: true, readAt: Date(timeIntervalSince1970: 1_790_000_000.125),
            createdAt: Date(timeIntervalSince1970: 1_789_999_999.5), edited: true, editedAt: Date(timeIntervalSince1970: 1_790_000_001),
            unsent: false, fileUrl: "http://x/f.webm", fileName: "note.webm", fileSize: 123_456, fileType: "audio/webm", caption: "listen",
            waveform: [0, 0.25, 1], duration: 3.5, imageWidth: 640, imageHeight: 480,
            reactions: [.init(userId: UUID().wire, username: "@bob", emoji: "👍"), .init(userId: UUID().wire, username: "@cat", emoji: "❤️")],
            replyTo: .init(id: UUID().wire, content: "earlier", senderDisplayName: "Bob", type: "text", duration: 1.25),
            readBy: [UUID().wire])
        try check(full)

        var bare = full
        (bare.senderProfileImage, bare.recipientId, bare.groupId, bare.clientMessageId) = (nil, nil, UUID().wire, nil)
        (bare.readAt, bare.editedAt, bare.fileUrl, bare.fileName, bare.fileSize, bare.fileType) = (nil, nil, nil, nil, nil, nil)
        (bare.caption, bare.waveform, bare.duration, bare.reactions, bare.readBy) = (nil, nil, nil, [], nil)
        (bare.imageWidth, bare.imageHeight) = (nil, nil)
        bare.replyTo = .init(id: UUID().wire, content: "", senderDisplayName: nil, type: nil, duration: nil)
        try check(bare)
        XCTAssertEqual(bare.socketValue["replyTo"]?.objectValue?.count, 2, "absent, not null, as before")
        XCTAssertEqual(bare.socketValue["fileUrl"], .null)
        bare.replyTo = nil
        try check(bare)
    }

    /// Work given to the writer between batches (the creation of direct conversations) runs, and
    /// never while a batch is being written: on SQLite the two would fight for the one writer.
    func testJobsRunBetweenBatchesNeverBesideOne() async throws {
        let log = NIOLockedValueBox<[String]>([])
        let writer = MessageBatchWriter(storeBatch: { messages, _ in
            log.withLockedValue { $0.append("batch start") }
            try? await Task.sleep(for: .milliseconds(20))
            log.withLockedValue { $0.append("batch end") }
            return messages.indices.map { .success(Int64($0 + 1)) }
        })
        let db = app.db as! any SQLDatabase
        let seqs = try await withThrowingTaskGroup(of: Int64.self) { group in
            for round in 0..<6 {
                group.addTask {
                    let message = Message()
                    message.id = UUID()
                    return try await writer.insert(message, on: db)
                }
                group.addTask {
                    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                        writer.betweenBatches(on: db) {
                            log.withLockedValue { $0.append("job \(round)") }
                            done.resume()
                        }
                    }
                    return 0
                }
                try await Task.sleep(for: .milliseconds(7))
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(seqs.filter { $0 > 0 }.count, 6, "every message stored")
        let entries = log.withLockedValue { $0 }
        XCTAssertEqual(Set(entries.filter { $0.hasPrefix("job") }), Set((0..<6).map { "job \($0)" }), "every job ran")
        var inBatch = false
        for entry in entries {
            if entry == "batch start" { XCTAssertFalse(inBatch); inBatch = true }
            if entry == "batch end" { inBatch = false }
            if entry.hasPrefix("job") { XCTAssertFalse(inBatch, "\(entry) ran beside a batch: \(entries)") }
        }
    }
}

/// SQLite in a file: the write-ahead log is checkpointed off the write path and still starts
/// over while sends never stop (SQLite's own checkpoints would stall a send each time).
final class SQLiteCheckpointTests: ChatrTestCase {
    var path: String!

    override func adjust(_ config: inout AppConfig) {
        path = NSTemporaryDirectory() + "chatr-wal-\(UUID().uuidString).sqlite"
        config.database = .sqliteFile(path)
    }

    override func tearDown() async throws {
        try await super.tearDown()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// The WAL header's first salt changes each time the log starts over from the top.
    func walSalt() -> UInt32? {
        guard let handle = FileHandle(forReadingAtPath: path + "-wal"), let header = try? handle.read(upToCount: 32), header.count == 32 else { return nil }
        return header[16..<20].reduce(0) { $0 << 8 | UInt32($1) }
    }

    func testTheLogStartsOverWhileSendsNeverStop() async throws {
        guard case .sqliteFile = services.config.database else { throw XCTSkip("SQLite only") }
        let checkpointer = SQLiteCheckpointer(path: path, interval: .milliseconds(50), rewindAfterFrames: 100)
        try await checkpointer.didBootAsync(app)
        let writer = MessageBatchWriter(checkpointer: checkpointer)
        let ann = try await makeUser("ann"), bob = try await makeUser("bob")
        let found = try await User.find(UUID(uuidString: ann.id), on: app.db)
        let sender = try XCTUnwrap(found)
        let first = try await MessageService(services: services, db: app.db).send(from: sender, .init(address: .user(UUID(uuidString: bob.id)!), content: "first"))
        let conversationID = try XCTUnwrap(UUID(uuidString: first.message.conversationId))

        var salts: Set<UInt32> = []
        var lastSeq: Int64 = 0
        let deadline = Date().addingTimeInterval(2)
        while Date() < deadline {
            // Several at once, as under load, so that batches form.
            lastSeq = try await withThrowingTaskGroup(of: Int64.self) { group in
                let senderID = try sender.requireID()
                let db = app.db as! any SQLDatabase
                for _ in 0..<20 {
                    group.addTask {
                        let message = Message()
                        (message.id, message.conversationID, message.senderID) = (UUID(), conversationID, senderID)
                        (message.content, message.type, message.status, message.edited, message.createdAt) = (String(repeating: "x", count: 200), .text, .sent, false, Date())
                        return try await writer.insert(message, on: db)
                    }
                }
                return try await group.reduce(0, max)
            }
            if let salt = walSalt() { salts.insert(salt) }
        }
        await checkpointer.shutdownAsync(app)
        XCTAssertGreaterThan(lastSeq, 1000, "the writes went on the whole time")
        XCTAssertGreaterThanOrEqual(salts.count, 3, "the log started over again and again")
        let count = try await Message.query(on: app.db).count()
        XCTAssertEqual(Int64(count), lastSeq, "and nothing was lost")
    }
}
