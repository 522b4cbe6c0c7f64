import Crypto
import Foundation

/// AWS Signature Version 4 for S3 requests, signing the payload's SHA-256.
struct S3Signer: Sendable {
    var accessKeyID: String
    var secretAccessKey: String
    var region: String
    var service = "s3"

    /// The headers to add to a request (`x-amz-date`, `x-amz-content-sha256`, `authorization`).
    /// `headers` are the other headers to sign (at least `host`); names in any case.
    func sign(method: String, path: String, query: String = "", headers: [String: String], payload: some DataProtocol,
              date: Date) -> [String: String] {
        sign(method: method, path: path, query: query, headers: headers, payloadHash: SHA256.hash(data: Data(payload)), date: date)
    }

    /// The same, for a payload whose SHA-256 is already known (a file hashed while it was staged).
    func sign(method: String, path: String, query: String = "", headers: [String: String], payloadHash digest: SHA256Digest,
              date: Date) -> [String: String] {
        let payloadHash = Self.hex(digest)
        let (amzDate, day) = Self.timestamps(date)
        var all = Dictionary(headers.map { ($0.key.lowercased(), $0.value.trimmingCharacters(in: .whitespaces)) }, uniquingKeysWith: { $1 })
        all["x-amz-date"] = amzDate
        all["x-amz-content-sha256"] = payloadHash
        let names = all.keys.sorted()
        let signedHeaders = names.joined(separator: ";")
        let canonicalHeaders = names.map { "\($0):\(all[$0]!)\n" }.joined()
        let canonicalRequest = [method, path, query, canonicalHeaders, signedHeaders, payloadHash].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8)))].joined(separator: "\n")
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(day: day)))
        return [
            "x-amz-date": amzDate,
            "x-amz-content-sha256": payloadHash,
            "authorization": "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)",
        ]
    }

    /// A presigned GET URL's query (SigV4 in the query string, unsigned payload), valid for
    /// `expires` seconds from `date`.
    func presignedQuery(path: String, host: String, date: Date, expires: Int) -> String {
        let (amzDate, day) = Self.timestamps(date)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let parameters = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(accessKeyID)/\(scope)"),
            ("X-Amz-Date", amzDate),
            ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", "host"),
        ]
        let query = parameters.map { "\(Self.encodeQuery($0.0))=\(Self.encodeQuery($0.1))" }.joined(separator: "&")
        let canonicalRequest = ["GET", path, query, "host:\(host)\n", "host", "UNSIGNED-PAYLOAD"].joined(separator: "\n")
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8)))].joined(separator: "\n")
        return query + "&X-Amz-Signature=" + Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(day: day)))
    }

    private func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data(("AWS4" + secretAccessKey).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    static func encodeQuery(_ value: String) -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }

    /// Percent-encodes a key for the request path: everything but unreserved characters and `/`.
    static func encodePath(_ key: String) -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")
        return key.addingPercentEncoding(withAllowedCharacters: unreserved) ?? key
    }

    static func timestamps(_ date: Date) -> (amzDate: String, day: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let day = String(format: "%04d%02d%02d", c.year!, c.month!, c.day!)
        return (day + String(format: "T%02d%02d%02dZ", c.hour!, c.minute!, c.second!), day)
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
