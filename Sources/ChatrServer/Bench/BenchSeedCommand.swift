import Fluent
import Foundation
import SQLKit
import Vapor

/// `chatr bench-seed --users N --messages M --out FILE`: N verified users with tokens (written as
/// `userId<TAB>token` lines) and M messages spread over pairs (user 2i ↔ 2i+1), inserted in bulk
/// with one password hash reused; their text is `BenchText` (the vocabulary goes to `words.txt`
/// beside the tokens). Refused when `CHATR_ENV=production`.
struct BenchSeedCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "users", help: "How many users (default 100)") var users: Int?
        @Option(name: "messages", help: "How many messages (default 0)") var messages: Int?
        @Option(name: "out", help: "Where to write userId<TAB>token lines (default tokens.tsv)") var out: String?
    }

    var help: String { "Creates verified test users with tokens and bulk messages for benchmarks (never in production)." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        guard app.chatr.config.mode != .production else {
            context.console.error("bench-seed is refused when CHATR_ENV=production")
            throw ConfigError(description: "bench-seed is refused in production")
        }
        let userCount = max(2, signature.users ?? 100)
        let messageCount = max(0, signature.messages ?? 0)
        let started = Date()
        let services = app.chatr
        let db = app.db
        let hash = try await services.passwords.hash("Bench-password1!")
        let run = String(UUID().uuidString.prefix(6)).lowercased()
        let now = services.clock.now

        let users: [User] = (0..<userCount).map { index in
            let user = User(id: UUID(), email: "bench\(run)\(index)@bench.local", phoneNumber: nil, username: "@b\(run)_\(index)",
                            displayName: "Bench \(index)", passwordHash: hash)
            user.emailVerified = true
            user.createdAt = now
            user.updatedAt = now
            return user
        }
        try await db.transaction { db in
            for chunk in users.chunks(of: 200) { try await chunk.create(on: db) }
        }

        var lines: [String] = []
        var newSessions: [Session] = []
        for user in users {
            let jti = UUID().uuidString.lowercased()
            let payload = AccessTokenPayload(userId: user.id!.wire, username: user.username, jti: jti, iat: .init(value: now),
                                             exp: .init(value: now.addingTimeInterval(services.config.jwtLifetime)))
            lines.append("\(user.id!.wire)\t\(try await services.tokens.keys.sign(payload))")
            newSessions.append(Session(userID: user.id!, jti: jti, createdAt: now, expiresAt: now.addingTimeInterval(services.config.jwtLifetime), userAgent: "bench-seed"))
        }
        let sessions = newSessions
        try await db.transaction { db in
            for chunk in sessions.chunks(of: 200) { try await chunk.create(on: db) }
        }

        if messageCount > 0 {
            let pairs = userCount / 2
            var newConversations: [Conversation] = []
            var newMembers: [Member] = []
            for pair in 0..<pairs {
                let a = users[2 * pair].id!, b = users[2 * pair + 1].id!
                let conversation = Conversation(direct: a, b)
                conversation.id = UUID()
                conversation.lastSeq = Int64(messageCount / pairs + (pair < messageCount % pairs ? 1 : 0))
                conversation.lastMessageAt = now
                newConversations.append(conversation)
                newMembers += [Member(conversationID: conversation.id!, userID: a, role: .member, joinedAt: now),
                            Member(conversationID: conversation.id!, userID: b, role: .member, joinedAt: now)]
            }
            let conversations = newConversations, members = newMembers
            try await db.transaction { db in
                for chunk in conversations.chunks(of: 200) { try await chunk.create(on: db) }
                for chunk in members.chunks(of: 200) { try await chunk.create(on: db) }
                // The members trigger dates their arrival after the (preset) last message; they
                // were there from the start, and see — and find — every seeded message.
                for chunk in conversations.chunks(of: 200) {
                    try await (db as! any SQLDatabase).raw("UPDATE members SET history_from_seq = 0 WHERE conversation_id IN (\(binds: chunk.map { $0.id! }))").run()
                }
            }
            // Messages in multi-row INSERTs through the store's column mapping.
            let written = try await db.transaction { db -> Int in
                let sql = db as! any SQLDatabase
                var batch: [(message: Message, seq: Int64)] = []
                var written = 0
                var text = BenchText(seed: 42)
                for (pairIndex, conversation) in conversations.enumerated() where conversation.lastSeq > 0 {
                    for seq in 1...Int(conversation.lastSeq) {
                        let message = Message()
                        message.id = UUID()
                        message.conversationID = conversation.id!
                        message.senderID = users[2 * pairIndex + (seq % 2)].id!
                        message.content = text.message()
                        message.type = .text
                        message.status = .read
                        message.edited = false
                        message.createdAt = now.addingTimeInterval(Double(seq) - Double(conversation.lastSeq))
                        batch.append((message, Int64(seq)))
                        if batch.count == 400 {
                            try await MessageColumns.insert(batch, into: sql)
                            written += batch.count
                            batch.removeAll(keepingCapacity: true)
                        }
                    }
                }
                try await MessageColumns.insert(batch, into: sql)
                return written + batch.count
            }
            context.console.print("seeded \(written) messages in \(conversations.count) conversations")
        }

        let path = signature.out ?? "tokens.tsv"
        try lines.joined(separator: "\n").appending("\n").write(toFile: path, atomically: true, encoding: .utf8)
        // The seeded text's words, most frequent first, for `chatr-bench search`.
        let words = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("words.txt").path
        try BenchText.vocabulary.joined(separator: "\n").appending("\n").write(toFile: words, atomically: true, encoding: .utf8)
        context.console.print("seeded \(userCount) users in \(String(format: "%.1f", Date().timeIntervalSince(started))) s; tokens in \(path)")
    }
}

extension Array {
    func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}

extension ArraySlice where Element: Model {
    func create(on db: any Database) async throws { try await Array(self).create(on: db) }
}
