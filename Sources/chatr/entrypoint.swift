import ChatrServer
import Foundation
import Logging
import Vapor

/// `chatr` (serve, the default), `chatr migrate`, and Vapor's other commands.
@main
enum Entrypoint {
    static func main() async {
        do {
            var env = try Environment.detect()
            try LoggingSystem.bootstrap(from: &env)
            let app = try await Application.make(env)
            do {
                // Only a serving process joins the cluster; `chatr user …`, `backup`, `migrate` do not.
                let command = env.arguments.dropFirst().first { !$0.hasPrefix("-") } ?? "serve"
                let wantsHelp = command == "help" || env.arguments.contains { $0 == "--help" || $0 == "-h" }
                var config = try AppConfig.fromEnvironment(wantsHelp ? helpEnvironment() : ProcessInfo.processInfo.environment)
                if command != "serve" || wantsHelp { config.cluster = false }
                if wantsHelp { config.autoMigrate = false }
                try await configure(app, config: config)
                try await app.execute()
                try await app.asyncShutdown()
            } catch {
                try? await app.asyncShutdown()
                throw error
            }
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("chatr: configuration error: \(error.description)\n".utf8))
            exit(1)
        } catch {
            FileHandle.standardError.write(Data("chatr: \(error)\n".utf8))
            exit(1)
        }
    }

    /// Asking for help touches nothing: no database (an empty one in memory, not migrated), no
    /// development secrets written to `./data`, whatever the environment says.
    static func helpEnvironment() -> [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { !["DATABASE_URL", "CLUSTER"].contains($0.key) }
        env["CHATR_ENV"] = "testing"
        env["DATABASE_URL"] = "sqlite::memory:"
        env["JWT_SECRET"] = String(repeating: "h", count: 32)
        return env
    }
}
