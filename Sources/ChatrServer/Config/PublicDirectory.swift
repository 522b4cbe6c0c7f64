import Foundation

/// Where the web client's files are (SPEC §1 `PUBLIC_DIR`): wherever the binary is started, not
/// only from the repository root. Tried in order: `PUBLIC_DIR`; `./Public`; `Public/` beside the
/// executable; `../share/chatr/Public` from the executable (an installed layout, /usr/local/bin +
/// /usr/local/share); the `Public/` of the source tree this binary was built from (`swift run`
/// from any folder).
enum PublicDirectory {
    struct Located: Equatable {
        var path: String
        /// How it was found, for the start-up log.
        var source: String
    }

    static func candidates(env: [String: String], executable: String, currentDirectory: String,
                           sourceTree: String = sourceTreePublic) -> [Located] {
        if let configured = env["PUBLIC_DIR"]?.trimmingCharacters(in: .whitespaces), !configured.isEmpty {
            // Configured means meant: no silent fallback to another copy.
            return [Located(path: absolute(configured, from: currentDirectory), source: "PUBLIC_DIR")]
        }
        let binDir = (absolute(executable, from: currentDirectory) as NSString).deletingLastPathComponent
        return [
            Located(path: absolute("Public", from: currentDirectory), source: "the current directory"),
            Located(path: (binDir as NSString).appendingPathComponent("Public"), source: "beside the executable"),
            Located(path: ((binDir as NSString).appendingPathComponent("../share/chatr/Public") as NSString).standardizingPath,
                    source: "the installed share folder"),
            Located(path: sourceTree, source: "the source tree of this build"),
        ]
    }

    /// The first candidate holding an `index.html`, or nil (and the places looked in).
    static func locate(env: [String: String] = ProcessInfo.processInfo.environment,
                       executable: String = Bundle.main.executablePath ?? CommandLine.arguments.first ?? "",
                       currentDirectory: String = FileManager.default.currentDirectoryPath,
                       sourceTree: String = sourceTreePublic) -> (found: Located?, tried: [String]) {
        let all = candidates(env: env, executable: executable, currentDirectory: currentDirectory, sourceTree: sourceTree)
        let found = all.first { FileManager.default.fileExists(atPath: ($0.path as NSString).appendingPathComponent("index.html")) }
        return (found, all.map(\.path))
    }

    /// `<repository>/Public`, from this file's place in `Sources/ChatrServer/Config/`.
    static let sourceTreePublic: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Public").path
    }()

    private static func absolute(_ path: String, from directory: String) -> String {
        let full = path.hasPrefix("/") ? path : (directory as NSString).appendingPathComponent(path)
        return (full as NSString).standardizingPath
    }
}
