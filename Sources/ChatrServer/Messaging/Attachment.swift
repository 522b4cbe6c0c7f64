import Crypto
import Foundation
import NIOCore

/// A file to send as a message: the file (staged on disk), what it is, and what the client said
/// about it.
struct Attachment: Sendable {
    var file: StagedFile
    var kind: SniffedType
    var fileName: String
    var caption: String?
    var waveform: [Double]?
    var duration: Double?
    /// The client asked for a voice note (recorded in the app) rather than an audio file.
    var isVoice: Bool
    /// An image's size as shown, from its header (nil for other files, or when unreadable).
    var imageSize: ImageSize? = nil

    var messageType: Message.Kind {
        if kind.isImage { return .image }
        if kind.isAudio { return isVoice ? .voice : .audio }
        if kind.isVideo { return .video }
        return .file
    }

    static let maxCaption = 1_000
    static let maxFileName = 255
    static let placeholderBars = 100

    /// Waveform rules for both upload and `PATCH …/waveform`: 1–200 numbers in [0, 1].
    static func waveformProblem(_ waveform: [Double]) -> String? {
        guard (1...200).contains(waveform.count) else { return "A waveform has 1 to 200 bars" }
        guard waveform.allSatisfy({ $0.isFinite && (0...1).contains($0) }) else { return "Waveform values must be between 0 and 1" }
        return nil
    }

    static func durationProblem(_ duration: Double) -> String? {
        duration.isFinite && duration >= 0 && duration <= 86_400 ? nil : "Duration must be a number of seconds"
    }

    /// A stand-in waveform until the client computes the real one: 100 bars in [0.04, 0.9],
    /// derived from the file's bytes, so the same file always gets the same shape.
    static func placeholderWaveform(sha256: SHA256Digest) -> [Double] {
        var state = sha256.withUnsafeBytes { raw in raw.load(as: UInt64.self) } | 1
        return (0..<placeholderBars).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            let unit = Double(state % 10_000) / 10_000
            return ((0.04 + unit * 0.86) * 1000).rounded() / 1000
        }
    }

    /// A file name safe to show and to send back in headers: no path, no control characters.
    static func cleanFileName(_ raw: String, fallbackExtension: String) -> String {
        let base = raw.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let cleaned = String(base.filter { !$0.isNewline && $0.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F } }.prefix(maxFileName))
        return cleaned.isEmpty || cleaned.allSatisfy({ $0 == "." }) ? "file.\(fallbackExtension)" : cleaned
    }
}
