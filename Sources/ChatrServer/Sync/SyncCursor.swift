import Crypto
import Foundation

/// A position in the change feed as clients hold it: `"<seq>.<mac>"`, the MAC made with this
/// server's secret. A cursor is not tied to a user — the feed is filtered by who asks, so a
/// cursor shared or stolen shows nothing — but one this server did not make (mistyped, edited,
/// from another installation) is refused (400) instead of being read as a position.
struct SyncCursors: Sendable {
    private let key: SymmetricKey
    private static let digits = Array("0123456789abcdef".utf8)

    init(secret: String) {
        key = SymmetricKey(data: SHA256.hash(data: Data(("chatr-sync-cursor:" + secret).utf8)))
    }

    func string(for seq: Int64) -> String {
        "\(seq).\(mac(seq))"
    }

    /// The position in a cursor, or nil when this server did not make it.
    func seq(from cursor: String) -> Int64? {
        let parts = cursor.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count <= 19, let seq = Int64(parts[0]), seq >= 0, parts[1] == mac(seq) else { return nil }
        return seq
    }

    private func mac(_ seq: Int64) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data(String(seq).utf8), using: key)
        // Hex by table: a page has a cursor per entry, and `String(format:)` is slow.
        var hex = [UInt8]()
        hex.reserveCapacity(16)
        for byte in code.prefix(8) {
            hex.append(Self.digits[Int(byte >> 4)])
            hex.append(Self.digits[Int(byte & 0x0f)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}
