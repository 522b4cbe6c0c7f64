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
                var config = try AppConfig.fromEnvironment()
                // Only a serving process joins the cluster; `chatr user …`, `backup`, `migrate` do not.
                let command = env.arguments.dropFirst().first { !$0.hasPrefix("-") } ?? "serve"
                if command != "serve" { config.cluster = false }
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
}
