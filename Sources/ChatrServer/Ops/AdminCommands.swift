import Fluent
import Foundation
import SQLKit
import Vapor

/// `chatr user list|disable|enable|reset-password|delete`: account administration from the
/// server's shell, on the database the environment names. Changes take effect at once for REST
/// (sessions are checked on every request) and within 30 s for sockets already connected
/// (`SessionSweeper`).
struct UserCommands: AsyncCommandGroup {
    var help: String { "Administers accounts: list, disable, enable, reset-password, delete <username>." }

    var commands: [String: any AnyAsyncCommand] {
        [
            "list": ListUsers(),
            "disable": UserAction(help: "Disables an account and signs out every session of it.") { user, _, app, console in
                user.disabledAt = app.chatr.clock.now
                try await user.save(on: app.db)
                try await app.chatr.tokens.revokeAll(userID: try user.requireID(), on: app.db)
                console.print("\(user.username) is disabled; every session was signed out.")
            },
            "enable": UserAction(help: "Lets a disabled account sign in again.") { user, _, app, console in
                user.disabledAt = nil
                try await user.save(on: app.db)
                console.print("\(user.username) can sign in again.")
            },
            "reset-password": UserAction(help: "Sets a new password (--password, else one is generated and printed) and signs out every session.") { user, signature, app, console in
                let password = signature.password ?? RandomBytes.hex(count: 8) + "-Aa1"
                if let problem = CredentialRules.passwordProblem(password) { throw AdminError(problem) }
                user.passwordHash = try await app.chatr.passwords.hash(password)
                try await user.save(on: app.db)
                try await app.chatr.tokens.revokeAll(userID: try user.requireID(), on: app.db)
                console.print(signature.password == nil ? "New password for \(user.username): \(password)" : "The password of \(user.username) was changed.")
                console.print("Every session of \(user.username) was signed out.")
            },
            "delete": UserAction(help: "Deletes an account with its memberships, messages and reactions (needs --confirm).") { user, signature, app, console in
                guard signature.confirm else {
                    throw AdminError("delete removes \(user.username), their memberships, messages and reactions for good; run again with --confirm")
                }
                try await user.delete(on: app.db)
                console.print("\(user.username) was deleted.")
            },
        ]
    }
}

struct ListUsers: AsyncCommand {
    struct Signature: CommandSignature {}
    var help: String { "Lists every account." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let users = try await User.query(on: context.application.db).sort(\.$usernameKey).all()
        context.console.print("username\tdisplay name\temail\tphone\tverified\tdisabled\tlast seen")
        for user in users {
            let fields = [user.username, user.displayName, user.email ?? "-", user.phoneNumber ?? "-", user.isVerified ? "yes" : "no",
                          user.disabledAt.map(ISO8601.string(from:)) ?? "-", user.lastSeen.map(ISO8601.string(from:)) ?? "-"]
            context.console.print(fields.joined(separator: "\t"))
        }
        context.console.print("\(users.count) account(s)")
    }
}

/// One action on one account, named by username.
struct UserAction: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "username", help: "the account (@name or name)") var username: String
        @Option(name: "password", help: "reset-password: the new password") var password: String?
        @Flag(name: "confirm", help: "delete: really delete") var confirm: Bool
    }

    let help: String
    let action: @Sendable (User, Signature, Application, any Console) async throws -> Void

    func run(using context: CommandContext, signature: Signature) async throws {
        let db = context.application.db
        guard let key = CredentialRules.normalizedUsername(signature.username)?.lowercased(),
              let user = try await User.query(on: db).filter(\.$usernameKey == key).first() else {
            throw AdminError("no account named \(signature.username)")
        }
        try await action(user, signature, context.application, context.console)
    }
}

/// `chatr backup <file>`: a consistent copy of a live SQLite database (`VACUUM INTO` reads one
/// snapshot while the server keeps writing). PostgreSQL has its own tool: `pg_dump`.
struct BackupCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "file", help: "where to write the copy (must not exist)") var file: String
    }

    var help: String { "Writes a consistent copy of the live SQLite database to <file> (PostgreSQL: use pg_dump)." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        guard case .sqliteFile(let path) = app.chatr.config.database else {
            throw AdminError(app.chatr.config.database.isPostgres
                ? "on PostgreSQL, back up with: pg_dump --format=custom --file=chatr.dump \"$DATABASE_URL\" (see docs/DEPLOYMENT.md)"
                : "the database is in memory: nothing to back up")
        }
        let target = (signature.file as NSString).expandingTildeInPath
        guard !FileManager.default.fileExists(atPath: target) else { throw AdminError("\(target) exists; choose a new file") }
        let started = Date()
        try await (app.db as! any SQLDatabase).raw("VACUUM INTO \(bind: target)").run()
        let size = (try? FileManager.default.attributesOfItem(atPath: target)[.size] as? Int) ?? 0
        context.console.print("Backed up \(path) to \(target) (\(size) bytes) in \(Int(Date().timeIntervalSince(started) * 1000)) ms.")
    }
}

/// `chatr vapid-keys`: a new key pair for Web Push, as the environment lines to keep (the same on
/// every node; changing it later invalidates every browser's subscription).
struct VapidKeysCommand: AsyncCommand {
    struct Signature: CommandSignature {}
    var help: String { "Prints a new VAPID key pair for Web Push: VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY lines for the environment." }

    func run(using context: CommandContext, signature: Signature) async throws {
        for line in VapidIdentity.newKeyPairLines() { context.console.output(line.consoleText()) }
    }
}

struct AdminError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
