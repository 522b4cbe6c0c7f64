import Foundation
import Logging
import NIOCore
import NIOPosix

/// Reads the real duration of an audio file with `ffprobe` when it is installed; otherwise (or
/// when it fails or takes too long) the duration the client reported stands — and why is logged.
struct AudioProbe: Sendable {
    let executable: String?
    let threadPool: NIOThreadPool
    var logger = Logger(label: "chatr.audio-probe")
    /// ffprobe answers in a tenth of a second. Not longer: the wait holds a thread of the pool
    /// that also hashes passwords.
    static let timeout: TimeInterval = 5

    static func find() -> String? {
        ["/usr/bin/ffprobe", "/usr/local/bin/ffprobe", "/opt/homebrew/bin/ffprobe"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The duration of the audio file at `path` (ffprobe recognises the format by its content).
    func duration(ofFileAt path: String) async -> Double? {
        guard let executable else { return nil }
        let logger = logger
        do {
            return try await threadPool.runIfActive {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["-v", "error", "-show_entries", "format=duration", "-of", "default=noprint_wrappers=1:nokey=1", path]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(Self.timeout)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning {
                process.terminate()
                logger.warning("ffprobe took more than \(Self.timeout) s on \(path): the client's duration stands")
                return nil
            }
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            guard process.terminationStatus == 0, let value = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)),
                  value.isFinite, value >= 0 else {
                logger.info("ffprobe found no duration in \(path) (exit \(process.terminationStatus), output \(text.prefix(100).debugDescription)): the client's duration stands")
                return nil
            }
            return (value * 1000).rounded() / 1000
            }
        } catch {
            logger.warning("ffprobe could not run on \(path): \(error)")
            return nil
        }
    }
}
