import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// One push to one device, as the queue holds it until it is sent.
struct PushJob: Sendable {
    struct Key: Hashable, Sendable {
        var subscriptionID: UUID
        var conversationID: UUID
    }

    var key: Key
    /// Whose device: a mute or sign-out cancels what waits for them.
    var userID: UUID
    var endpoint: String
    var p256dh: String
    var auth: String
    /// The payload of the newest message it stands for (`PushPayload`, with `count` filled in
    /// when it is sent).
    var payload: PushPayload
    var urgency: String
    /// Sends made so far (for the back-off).
    var attempts = 0

    /// The push service, for the per-host limit (`PushQueue.perHost`).
    var host: String { URL(string: endpoint)?.host?.lowercased() ?? "" }

    /// A newer message for the same device and conversation replaces this one's content; the
    /// count says how many messages the notification stands for.
    mutating func absorb(_ newer: PushJob) {
        let count = payload.count + newer.payload.count
        payload = newer.payload
        payload.count = count
        endpoint = newer.endpoint
        p256dh = newer.p256dh
        auth = newer.auth
        urgency = newer.urgency
    }
}

/// What a push service's answer means for the job (RFC 8030 §5, §8.2).
enum PushOutcome: Sendable, Equatable {
    case delivered
    /// 404/410: the subscription expired or was revoked — forget it.
    case gone
    /// 429, 5xx or no answer: try again after this long (the service's `Retry-After` if it gave one).
    case retry(after: Duration?)
    /// Any other answer: this request will never succeed (bad keys, payload too large…).
    case rejected(String)
}

/// Sends a job over HTTP: encrypts the payload for the device, signs the VAPID header, POSTs.
struct PushDelivery: Sendable {
    let client: HTTPClient
    let signer: VapidSigner
    /// Keys the `Topic` (below).
    let topicKey: SymmetricKey
    /// Says why a push service could not be reached (the queue retries, then reports the drop).
    var logger = Logger(label: "chatr.push")
    /// How long a push service may keep an undelivered message: a day-old chat message is
    /// still worth showing, an older one is not.
    static let timeToLive = 86_400

    func send(_ job: PushJob, now: Date) async -> PushOutcome {
        guard let url = URL(string: job.endpoint) else { return .rejected("the endpoint is not a URL") }
        guard let authorization = signer.authorization(for: url, now: now) else {
            return .rejected("the VAPID header could not be signed for \(url.host ?? job.endpoint)")
        }
        guard let subscriber = PushEncryption.Subscriber(p256dh: job.p256dh, auth: job.auth) else {
            return .rejected("the subscription's keys are not valid")
        }
        let body: Data
        do {
            body = try PushEncryption.encrypt(try job.payload.encoded(), for: subscriber)
        } catch {
            return .rejected("the payload could not be encrypted: \(error)")
        }
        var request = HTTPClientRequest(url: job.endpoint)
        request.method = .POST
        request.headers.add(name: "TTL", value: String(Self.timeToLive))
        request.headers.add(name: "Content-Encoding", value: "aes128gcm")
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        // One notification per conversation waiting at the push service: a newer one replaces it.
        request.headers.add(name: "Topic", value: topic(of: job.key))
        request.headers.add(name: "Urgency", value: job.urgency)
        request.headers.add(name: "Authorization", value: authorization)
        request.body = .bytes(ByteBuffer(data: body))
        do {
            let response = try await client.execute(request, timeout: .seconds(5))
            let detail = (try? await response.body.collect(upTo: 2048)).map { String(buffer: $0) } ?? ""
            return Self.outcome(status: Int(response.status.code), retryAfter: response.headers.first(name: "Retry-After"), detail: detail, now: now)
        } catch {
            logger.info("push to \(url.host ?? "?") for subscription \(job.key.subscriptionID) got no answer: \(error)")
            return .retry(after: nil)
        }
    }

    /// The `Topic` header (RFC 8030 §5.4, at most 32 base64url characters): the same for every
    /// push of one conversation to one device, so the push service keeps only the newest, but
    /// opaque and different on each device — the conversation's id would tell the push service
    /// which subscribers talk to each other.
    func topic(of key: PushJob.Key) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data((key.subscriptionID.wire + key.conversationID.wire).utf8), using: topicKey)
        return Base64URL.encode(mac.prefix(24))
    }

    static func outcome(status: Int, retryAfter: String?, detail: String, now: Date) -> PushOutcome {
        switch status {
        case 200..<300: return .delivered
        case 404, 410: return .gone
        case 429, 500..<600: return .retry(after: retryAfter.flatMap { parseRetryAfter($0, now: now) })
        // Redirects are not followed (they could lead anywhere, `PushEndpointPolicy`): refused.
        default: return .rejected("HTTP \(status): \(detail.prefix(300))")
        }
    }

    /// `Retry-After` is seconds or an HTTP date (RFC 9110 §10.2.3).
    static func parseRetryAfter(_ value: String, now: Date) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(text), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return .milliseconds(max(0, Int(date.timeIntervalSince(now) * 1000)))
    }
}
