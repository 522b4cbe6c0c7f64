import Crypto
import Foundation
import NIOConcurrencyHelpers

/// The server's VAPID identity (RFC 8292): the P-256 key push services check our requests
/// against, and the contact (`mailto:` or `https:`) they may write to about our traffic. Browsers
/// subscribe with the public key, so it must outlive restarts and be the same on every node:
/// taken from `VAPID_PRIVATE_KEY` (and `VAPID_PUBLIC_KEY`, checked to match), else in development
/// generated once into `./data/vapid-private-key`, in testing generated at start; production
/// without keys runs without Web Push (and says so at start), and so does cluster mode: a key
/// generated on each node would differ between them (`ChatrCluster` refuses a node whose key
/// differs from the others').
public struct VapidIdentity: Sendable {
    let key: P256.Signing.PrivateKey
    let subject: String

    /// What `GET /api/push/key` gives browsers: base64url of the uncompressed point.
    var publicKey: String { Base64URL.encode(key.publicKey.x963Representation) }

    static func generated(subject: String = defaultSubject) -> VapidIdentity {
        VapidIdentity(key: P256.Signing.PrivateKey(), subject: subject)
    }

    static let defaultSubject = "mailto:admin@localhost"

    /// `chatr vapid-keys`: a fresh pair as `VAPID_PRIVATE_KEY=…` and `VAPID_PUBLIC_KEY=…`.
    static func newKeyPairLines() -> [String] {
        let key = P256.Signing.PrivateKey()
        return ["VAPID_PRIVATE_KEY=\(Base64URL.encode(key.rawRepresentation))",
                "VAPID_PUBLIC_KEY=\(Base64URL.encode(key.publicKey.x963Representation))"]
    }

    static func fromEnvironment(_ value: (String) -> String?, mode: AppConfig.Mode, cluster: Bool, dataDirectory: String,
                                frontendOrigins: [String]) throws -> VapidIdentity? {
        let subject = value("VAPID_SUBJECT") ?? frontendOrigins.first { $0.hasPrefix("https://") } ?? defaultSubject
        guard subject.hasPrefix("mailto:") || subject.hasPrefix("https://") else {
            throw ConfigError(description: "VAPID_SUBJECT must be a mailto: or https: contact, got '\(subject)'")
        }
        if let privateText = value("VAPID_PRIVATE_KEY") {
            guard let raw = Base64URL.decode(privateText), raw.count == 32, let key = try? P256.Signing.PrivateKey(rawRepresentation: raw) else {
                throw ConfigError(description: "VAPID_PRIVATE_KEY must be a P-256 private key: 32 bytes in base64url")
            }
            if let publicText = value("VAPID_PUBLIC_KEY"), Base64URL.decode(publicText) != key.publicKey.x963Representation {
                throw ConfigError(description: "VAPID_PUBLIC_KEY is not the public key of VAPID_PRIVATE_KEY")
            }
            return VapidIdentity(key: key, subject: subject)
        }
        if value("VAPID_PUBLIC_KEY") != nil {
            throw ConfigError(description: "VAPID_PUBLIC_KEY is set without VAPID_PRIVATE_KEY")
        }
        if cluster { return nil }
        switch mode {
        case .production: return nil
        case .testing: return generated(subject: subject)
        case .development: return VapidIdentity(key: try loadOrCreate(at: dataDirectory + "/vapid-private-key"), subject: subject)
        }
    }

    private static func loadOrCreate(at path: String) throws -> P256.Signing.PrivateKey {
        let fm = FileManager.default
        if let data = fm.contents(atPath: path), let text = String(data: data, encoding: .utf8),
           let raw = Base64URL.decode(text.trimmingCharacters(in: .whitespacesAndNewlines)),
           let key = try? P256.Signing.PrivateKey(rawRepresentation: raw) {
            return key
        }
        let key = P256.Signing.PrivateKey()
        do {
            try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard fm.createFile(atPath: path, contents: Data(Base64URL.encode(key.rawRepresentation).utf8), attributes: [.posixPermissions: 0o600]) else {
                throw ConfigError(description: "cannot write \(path)")
            }
        } catch {
            throw ConfigError(description: "cannot create the development VAPID key at \(path): \(error)")
        }
        return key
    }
}

/// Signs the `Authorization: vapid t=…, k=…` header (RFC 8292 §2–3): an ES256 JWT naming the
/// push service's origin (`aud`), an expiry within 24 hours and our contact. A token is reused
/// for its audience until an hour before it expires — signing is the costly part of a push.
final class VapidSigner: Sendable {
    let identity: VapidIdentity
    private let lifetime: TimeInterval = 12 * 3600
    private let cache = NIOLockedValueBox<[String: (header: String, expires: Date)]>([:])

    init(identity: VapidIdentity) { self.identity = identity }

    private struct Claims: Encodable { var aud: String; var exp: Int; var sub: String }

    /// The header for a request to `endpoint`; nil when the endpoint has no origin.
    func authorization(for endpoint: URL, now: Date) -> String? {
        guard let scheme = endpoint.scheme, let host = endpoint.host else { return nil }
        let audience = "\(scheme)://\(host)" + (endpoint.port.map { ":\($0)" } ?? "")
        if let cached = cache.withLockedValue({ $0[audience] }), cached.expires.timeIntervalSince(now) > 3600 { return cached.header }

        let expires = now.addingTimeInterval(lifetime)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard let claims = try? encoder.encode(Claims(aud: audience, exp: Int(expires.timeIntervalSince1970), sub: identity.subject))
        else { return nil }
        let signingInput = Self.header + "." + Base64URL.encode(claims)
        guard let signature = try? identity.key.signature(for: Data(signingInput.utf8)) else { return nil }
        let header = "vapid t=\(signingInput).\(Base64URL.encode(signature.rawRepresentation)), k=\(identity.publicKey)"
        cache.withLockedValue { cache in
            if cache.count > 1000 { cache.removeAll() }  // audiences are a handful of push services
            cache[audience] = (header, expires)
        }
        return header
    }

    /// `{"typ":"JWT","alg":"ES256"}`, encoded once.
    private static let header = Base64URL.encode(Data(#"{"typ":"JWT","alg":"ES256"}"#.utf8))
}
