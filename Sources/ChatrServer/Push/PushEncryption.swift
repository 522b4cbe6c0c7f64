import Crypto
import Foundation

/// Message encryption for Web Push (RFC 8291) in the `aes128gcm` content coding (RFC 8188).
///
/// The browser gave us its P-256 public key (`p256dh`) and a 16-byte secret (`auth`). For each
/// message: a fresh key pair of ours, ECDH with theirs, and two HKDF steps (first mixing in the
/// auth secret and both public keys, then a random salt) give the AES-128-GCM key and nonce. The
/// body is one record: salt, record size, our public key, then the ciphertext of the payload
/// followed by the last-record delimiter 0x02.
enum PushEncryption {
    /// The record size we announce; the whole message is one record, smaller than this.
    static let recordSize: UInt32 = 4096
    /// The most plaintext a push may carry (RFC 8291 §4): push services must accept 4,096-byte
    /// bodies, and the 86-byte header, the 16-byte tag and the delimiter take the rest.
    static let maxPayload = 3993

    struct Subscriber {
        let publicKey: P256.KeyAgreement.PublicKey
        let authSecret: Data

        /// The subscription's keys as the browser encodes them (base64url); nil when they are not
        /// a P-256 point and a 16-byte secret.
        init?(p256dh: String, auth: String) {
            guard let point = Base64URL.decode(p256dh), point.count == 65, point.first == 0x04,
                  let key = try? P256.KeyAgreement.PublicKey(x963Representation: point),
                  let secret = Base64URL.decode(auth), secret.count == 16 else { return nil }
            publicKey = key
            authSecret = secret
        }
    }

    enum Failure: Error { case payloadTooLarge(Int) }

    /// The request body. `salt` and `serverKey` are fresh for every message; tests pass fixed ones
    /// to compare with the RFC's example.
    static func encrypt(_ payload: Data, for subscriber: Subscriber,
                        salt: Data = Data(RandomBytes.bytes(count: 16)),
                        serverKey: P256.KeyAgreement.PrivateKey = P256.KeyAgreement.PrivateKey()) throws -> Data {
        guard payload.count <= maxPayload else { throw Failure.payloadTooLarge(payload.count) }
        let serverPublic = serverKey.publicKey.x963Representation
        let shared = try serverKey.sharedSecretFromKeyAgreement(with: subscriber.publicKey)

        // RFC 8291 §3.3: the input keying material binds the auth secret and both public keys.
        let keyInfo = Data("WebPush: info".utf8) + [0] + subscriber.publicKey.x963Representation + serverPublic
        let ikm = shared.hkdfDerivedSymmetricKey(using: SHA256.self, salt: subscriber.authSecret,
                                                 sharedInfo: keyInfo, outputByteCount: 32)
        // RFC 8188 §2.2–2.3: the content encryption key and nonce, from the salt.
        let prk = ikm.withUnsafeBytes { HKDF<SHA256>.extract(inputKeyMaterial: SymmetricKey(data: $0), salt: salt) }
        let key = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Data("Content-Encoding: aes128gcm".utf8) + [0], outputByteCount: 16)
        let nonce = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Data("Content-Encoding: nonce".utf8) + [0], outputByteCount: 12)

        let sealed = try AES.GCM.seal(payload + [2], using: key, nonce: AES.GCM.Nonce(data: nonce.withUnsafeBytes { Data($0) }))
        var body = Data(capacity: 86 + payload.count + 17)
        body += salt
        body += withUnsafeBytes(of: recordSize.bigEndian) { Data($0) }
        body += [UInt8(serverPublic.count)]
        body += serverPublic
        body += sealed.ciphertext
        body += sealed.tag
        return body
    }
}
