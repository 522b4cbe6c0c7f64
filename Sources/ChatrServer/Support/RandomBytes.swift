import Crypto
import Foundation

/// Cryptographically secure random values (the system generator is a CSPRNG on Linux and Apple).
enum RandomBytes {
    static func bytes(count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    static func hex(count: Int) -> String {
        bytes(count: count).map { String(format: "%02x", $0) }.joined()
    }

    /// A zero-padded numeric code such as a 6-digit verification code.
    static func digits(_ count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
    }
}

extension UUID {
    /// The wire form of an id: lowercase, as JavaScript clients and PostgreSQL print it.
    var wire: String { uuidString.lowercased() }
}
