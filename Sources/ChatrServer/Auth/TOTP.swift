import Crypto
import Foundation

/// RFC 6238 time-based one-time passwords (RFC 4226 HOTP over a 30-second counter).
/// Chatr issues SHA-1 / 6 digits / 30 s, the combination every authenticator app supports;
/// the other parameters exist so the RFC's own test vectors can be checked.
struct TimeOTP: Sendable {
    enum Algorithm: String, Sendable { case sha1 = "SHA1", sha256 = "SHA256", sha512 = "SHA512" }

    var secret: [UInt8]
    var digits = 6
    var period: TimeInterval = 30
    var algorithm: Algorithm = .sha1

    func code(at date: Date) -> String {
        code(counter: UInt64(floor(date.timeIntervalSince1970 / period)))
    }

    func code(counter: UInt64) -> String {
        let message = withUnsafeBytes(of: counter.bigEndian) { Array($0) }
        let key = SymmetricKey(data: secret)
        let mac: [UInt8]
        switch algorithm {
        case .sha1: mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: key))
        case .sha256: mac = Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
        case .sha512: mac = Array(HMAC<SHA512>.authenticationCode(for: message, using: key))
        }
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let truncated = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16)
            | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let value = String(truncated % modulus)
        return String(repeating: "0", count: digits - value.count) + value
    }

    /// Accepts the code of the current step or one step either side (clock drift on phones).
    func validate(_ candidate: String, at date: Date, window: Int = 1) -> Bool {
        let trimmed = candidate.filter { !$0.isWhitespace }
        guard trimmed.count == digits, trimmed.allSatisfy(\.isASCII), trimmed.allSatisfy(\.isNumber) else { return false }
        let counter = Int64(floor(date.timeIntervalSince1970 / period))
        var matched = false
        for step in -window...window where counter + Int64(step) >= 0 {
            // Compare every candidate step so timing does not reveal which one matched.
            if constantTimeEquals(code(counter: UInt64(counter + Int64(step))), trimmed) { matched = true }
        }
        return matched
    }

    /// `otpauth://` URI understood by Google Authenticator, Authy and 1Password.
    func provisioningURI(account: String, issuer: String) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~@"))
        let issuerEncoded = issuer.addingPercentEncoding(withAllowedCharacters: allowed) ?? issuer
        let accountEncoded = account.addingPercentEncoding(withAllowedCharacters: allowed) ?? account
        return "otpauth://totp/\(issuerEncoded):\(accountEncoded)?secret=\(Base32.encode(secret))"
            + "&issuer=\(issuerEncoded)&algorithm=\(algorithm.rawValue)&digits=\(digits)&period=\(Int(period))"
    }
}

func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var difference: UInt8 = 0
    for index in x.indices { difference |= x[index] ^ y[index] }
    return difference == 0
}
