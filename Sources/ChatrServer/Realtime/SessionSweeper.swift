import Fluent
import Foundation
import NIOConcurrencyHelpers
import SocketIO
import SQLKit
import Vapor

/// A socket's token is checked when it connects; what ends a session later without going through
/// this server — its expiry, `chatr user disable|reset-password|delete` from the shell — is found
/// here: every `interval`, the sessions of this node's sockets are looked up (one query per 500),
/// and sockets whose session is no longer valid are disconnected. (Logout and password reset on
/// a node disconnect at once, on every node, through the cluster.)
enum SessionSweeper {
    static func task(every interval: Duration = .seconds(30)) -> PeriodicTask {
        PeriodicTask(every: interval) { app in await sweep(app) }
    }

    /// Disconnects the sockets whose session was revoked, expired, or whose user was disabled or
    /// deleted. Returns how many.
    @discardableResult
    static func sweep(_ app: Application) async -> Int {
        guard let namespace = app.socketIOServer?.sockets else { return 0 }
        var bySession: [UUID: [Socket]] = [:]
        for socket in namespace.allSockets {
            if let session = socket[SocketUser.self]?.sessionID { bySession[session, default: []].append(socket) }
        }
        let ids = Array(bySession.keys)
        var ended = 0
        for start in stride(from: 0, to: ids.count, by: 500) {
            let chunk = Array(ids[start..<min(start + 500, ids.count)])
            do {
                let now = app.chatr.clock.now
                let valid = try await (app.db as! any SQLDatabase).raw("""
                    SELECT x.id FROM sessions x JOIN users u ON u.id = x.user_id
                    WHERE x.id IN (\(binds: chunk)) AND \(TokenService.live(at: now))
                    """).all().map { try $0.decode(column: "id", as: UUID.self) }
                for id in Set(chunk).subtracting(valid) {
                    for socket in bySession[id] ?? [] {
                        socket.disconnect()
                        ended += 1
                    }
                }
            } catch {
                app.logger.error("session sweep: could not check \(chunk.count) sessions: \(String(reflecting: error))")
            }
        }
        if ended > 0 { app.logger.notice("session sweep: disconnected \(ended) sockets whose session ended") }
        return ended
    }
}
