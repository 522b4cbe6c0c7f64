import Fluent
import Foundation
import SQLKit
import Vapor

/// `PUT /api/messages/conversations/:conversationId/mute` `{muted, until?}`: a member stops (or
/// resumes) push notifications for one conversation, for good or until a date. Messages, unread
/// counts and receipts are unchanged — muting is about being interrupted, nothing else.
enum ConversationMute {
    /// "Until I turn it back on", as a date: one column answers "is it muted now?".
    static let forever = Date(timeIntervalSince1970: 253_402_214_400)  // 9999-12-31T00:00:00Z

    struct Body: Decodable {
        var muted: Bool?
        var until: Date?
    }

    struct Response: Content {
        var conversationId: String
        var mutedUntil: Date?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(conversationId, forKey: .conversationId)
            try c.encode(mutedUntil, forKey: .mutedUntil)  // null, not absent
        }
    }

    @Sendable static func update(_ req: Request) async throws -> Response {
        // Not an id at all: no such conversation, as the other routes with an id in the path say.
        guard let raw = req.parameters.get("conversationId"), let conversationID = UUID(uuidString: raw) else {
            throw ChatrError.notFound("Conversation not found")
        }
        let body = try req.content.decode(Body.self)
        guard let muted = body.muted else { throw ChatrError.badRequest("muted (true or false) is required", code: "invalid_mute") }
        let now = req.chatr.clock.now
        if let until = body.until, until <= now { throw ChatrError.badRequest("until must be in the future", code: "invalid_mute") }
        let until = muted ? (body.until ?? forever) : nil
        let me = try req.currentUser.requireID()
        guard try await Member.query(on: req.db).filter(\.$conversationID == conversationID).filter(\.$userID == me).first() != nil else {
            guard try await Conversation.find(conversationID, on: req.db) != nil else { throw ChatrError.notFound("Conversation not found") }
            throw ChatrError.forbidden("You are not a member of this conversation")
        }
        try await (req.db as! any SQLDatabase).raw("""
            UPDATE members SET muted_until = \(bind: until) WHERE conversation_id = \(bind: conversationID) AND user_id = \(bind: me)
            """).run()
        // Muted from now: pushes still waiting (behind a busy push service) are not sent either.
        if until != nil { await req.chatr.push?.queue.cancel(user: me, conversation: conversationID) }
        return Response(conversationId: conversationID.wire, mutedUntil: until)
    }
}
