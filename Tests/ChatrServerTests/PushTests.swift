import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import XCTest
@testable import ChatrServer

/// Web Push's parts on their own: the encryption against RFC 8291's worked example, the VAPID
/// token, which endpoints are accepted, the keys' configuration and the queue's rules. The whole
/// path (a real server, a local push service, decryption by `http_ece`) is in
/// Tests/interop/test_push.py.
final class PushTests: XCTestCase {
    let scratch = NSTemporaryDirectory() + "chatr-push-" + UUID().uuidString

    override func tearDown() { try? FileManager.default.removeItem(atPath: scratch) }

    private func data(_ base64url: String) -> Data { Base64URL.decode(base64url)! }

    // MARK: - Encryption (RFC 8291 Appendix A)

    func testEncryptionReproducesTheRFC8291Example() throws {
        let subscriber = try XCTUnwrap(PushEncryption.Subscriber(
            p256dh: "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            auth: "BTBZMqHH6r4Tts7J_aSIgg"))
        let serverKey = try P256.KeyAgreement.PrivateKey(rawRepresentation: data("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"))
        let body = try PushEncryption.encrypt(Data("When I grow up, I want to be a watermelon".utf8), for: subscriber,
                                              salt: data("DGv6ra1nlYgDCS1FRnbzlw"), serverKey: serverKey)
        XCTAssertEqual(Base64URL.encode(body),
                       "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN")
    }

    func testFreshMessagesDifferAndTooLargeOnesAreRefused() throws {
        let device = P256.KeyAgreement.PrivateKey()
        let subscriber = try XCTUnwrap(PushEncryption.Subscriber(p256dh: Base64URL.encode(device.publicKey.x963Representation),
                                                                 auth: Base64URL.encode(RandomBytes.bytes(count: 16))))
        let payload = Data("same words".utf8)
        XCTAssertNotEqual(try PushEncryption.encrypt(payload, for: subscriber), try PushEncryption.encrypt(payload, for: subscriber),
                          "a fresh salt and key per message")
        XCTAssertNoThrow(try PushEncryption.encrypt(Data(count: PushEncryption.maxPayload), for: subscriber))
        XCTAssertThrowsError(try PushEncryption.encrypt(Data(count: PushEncryption.maxPayload + 1), for: subscriber))
    }

    func testSubscriberKeysMustBeAPointAndSixteenBytes() {
        let point = Base64URL.encode(P256.KeyAgreement.PrivateKey().publicKey.x963Representation)
        let auth = Base64URL.encode(RandomBytes.bytes(count: 16))
        XCTAssertNotNil(PushEncryption.Subscriber(p256dh: point, auth: auth))
        XCTAssertNotNil(PushEncryption.Subscriber(p256dh: point + "=", auth: auth + "=="), "padding is accepted")
        XCTAssertNil(PushEncryption.Subscriber(p256dh: Base64URL.encode([4] + [UInt8](repeating: 0, count: 64)), auth: auth), "not on the curve")
        XCTAssertNil(PushEncryption.Subscriber(p256dh: String(point.dropLast(4)), auth: auth), "too short")
        XCTAssertNil(PushEncryption.Subscriber(p256dh: point, auth: Base64URL.encode(RandomBytes.bytes(count: 15))))
        XCTAssertNil(PushEncryption.Subscriber(p256dh: "+" + point.dropFirst(), auth: auth), "base64, not base64url")
        XCTAssertNil(PushEncryption.Subscriber(p256dh: "", auth: ""))
    }

    // MARK: - VAPID (RFC 8292)

    func testVapidHeaderIsAnES256TokenForTheEndpointsOrigin() throws {
        let identity = VapidIdentity.generated(subject: "mailto:ops@example.com")
        let signer = VapidSigner(identity: identity)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let header = try XCTUnwrap(signer.authorization(for: URL(string: "https://push.example.net:8443/send/abc?x=1")!, now: now))
        let parts = header.split(separator: " ", maxSplits: 1)
        XCTAssertEqual(parts[0], "vapid")
        let fields = Dictionary(uniqueKeysWithValues: parts[1].components(separatedBy: ", ").map { field -> (String, String) in
            let pair = field.split(separator: "=", maxSplits: 1)
            return (String(pair[0]), String(pair[1]))
        })
        XCTAssertEqual(fields["k"], identity.publicKey)
        let token = try XCTUnwrap(fields["t"]).split(separator: ".").map(String.init)
        XCTAssertEqual(token.count, 3)
        let head = try JSONSerialization.jsonObject(with: data(token[0])) as? [String: String]
        XCTAssertEqual(head, ["typ": "JWT", "alg": "ES256"])
        let claims = try XCTUnwrap(JSONSerialization.jsonObject(with: data(token[1])) as? [String: Any])
        XCTAssertEqual(claims["aud"] as? String, "https://push.example.net:8443")
        XCTAssertEqual(claims["sub"] as? String, "mailto:ops@example.com")
        XCTAssertEqual(claims["exp"] as? Int, Int(now.timeIntervalSince1970) + 12 * 3600, "at most 24 hours ahead (RFC 8292 §2)")
        let publicKey = try P256.Signing.PublicKey(x963Representation: data(identity.publicKey))
        let signature = try P256.Signing.ECDSASignature(rawRepresentation: data(token[2]))
        XCTAssertTrue(publicKey.isValidSignature(signature, for: Data("\(token[0]).\(token[1])".utf8)))

        // Reused for the same push service while it has more than an hour left; re-signed after.
        XCTAssertEqual(signer.authorization(for: URL(string: "https://push.example.net:8443/other")!, now: now.addingTimeInterval(3600)), header)
        XCTAssertNotEqual(signer.authorization(for: URL(string: "https://push.example.net:8443/other")!, now: now.addingTimeInterval(11.5 * 3600)), header)
        XCTAssertNotEqual(signer.authorization(for: URL(string: "https://other.example.net/x")!, now: now), header)
    }

    func testVapidKeysFromTheEnvironmentOrGenerated() throws {
        let key = P256.Signing.PrivateKey()
        let privateText = Base64URL.encode(key.rawRepresentation)
        let publicText = Base64URL.encode(key.publicKey.x963Representation)
        func load(_ env: [String: String]) throws -> AppConfig { try AppConfig.fromEnvironment(env, dataDirectory: scratch) }

        let given = try load(["VAPID_PRIVATE_KEY": privateText, "VAPID_PUBLIC_KEY": publicText, "VAPID_SUBJECT": "https://chat.example.com"])
        XCTAssertEqual(given.vapid?.publicKey, publicText)
        XCTAssertEqual(given.vapid?.subject, "https://chat.example.com")
        let other = Base64URL.encode(P256.Signing.PrivateKey().publicKey.x963Representation)
        XCTAssertThrowsError(try load(["VAPID_PRIVATE_KEY": privateText, "VAPID_PUBLIC_KEY": other]), "keys that do not match")
        XCTAssertThrowsError(try load(["VAPID_PUBLIC_KEY": publicText]), "a public key alone")
        XCTAssertThrowsError(try load(["VAPID_PRIVATE_KEY": "not-a-key"]))
        XCTAssertThrowsError(try load(["VAPID_PRIVATE_KEY": privateText, "VAPID_SUBJECT": "ops@example.com"]), "not mailto: or https:")

        // `chatr vapid-keys` prints a pair the server takes.
        let lines = VapidIdentity.newKeyPairLines()
        let printed = Dictionary(uniqueKeysWithValues: lines.map { line -> (String, String) in
            let pair = line.split(separator: "=", maxSplits: 1)
            return (String(pair[0]), String(pair[1]))
        })
        XCTAssertEqual(try load(printed).vapid?.publicKey, printed["VAPID_PUBLIC_KEY"])

        // Development: generated once, kept in the data folder, the same after a restart.
        let first = try XCTUnwrap(load([:]).vapid)
        XCTAssertEqual(try load([:]).vapid?.publicKey, first.publicKey)
        XCTAssertEqual(first.subject, VapidIdentity.defaultSubject)
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch + "/vapid-private-key"))
        // Production without keys: no push rather than a key nobody chose; cluster mode neither,
        // as each node would generate its own.
        XCTAssertNil(try load(["CHATR_ENV": "production", "JWT_SECRET": String(repeating: "s", count: 40)]).vapid)
        XCTAssertNil(try load(["CLUSTER": "postgres", "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/db"]).vapid)
        XCTAssertEqual(try load(["CLUSTER": "postgres", "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/db", "VAPID_PRIVATE_KEY": privateText]).vapid?.publicKey,
                       publicText)
    }

    // MARK: - Endpoints

    func testProductionPostsOnlyToHTTPSPushServicesOnPublicNames() {
        let production = { (url: String) in PushEndpointPolicy.problem(with: url, allowLocal: false) }
        XCTAssertNil(production("https://fcm.googleapis.com/fcm/send/abc:def"))
        XCTAssertNil(production("https://web.push.apple.com/QGx4"))
        XCTAssertNil(production("HTTPS://Updates.Push.Services.Mozilla.com./wpush/v2/x"), "case and the root's dot do not matter")
        for refused in ["http://fcm.googleapis.com/x", "https://127.0.0.1/x", "https://10.0.0.7/x", "https://[::1]/x", "https://localhost/x",
                        "https://127.1/x", "https://2130706433/x", "https://0x7f.1/x", "https://0xa9.254.169.254/x", "https://017700000001/x",
                        "https://localhost./x", "https://metadata.google.internal./x", "https://printer.local./x",
                        "https://printer.local/x", "https://metadata.internal/x", "https://intranet/x", "https://user:pw@push.example.com/x",
                        "ftp://push.example.com/x", "not a url", "https://push.example.com/" + String(repeating: "a", count: 2048)] {
            XCTAssertNotNil(production(refused), refused)
        }
        XCTAssertNil(PushEndpointPolicy.problem(with: "http://127.0.0.1:8080/push/1", allowLocal: true))
        XCTAssertNotNil(PushEndpointPolicy.problem(with: "ftp://127.0.0.1/x", allowLocal: true))
    }

    func testRetryAfterInSecondsOrAsADate() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        XCTAssertEqual(PushDelivery.parseRetryAfter("7", now: now), .seconds(7))
        let date = DateFormatter()
        date.locale = Locale(identifier: "en_US_POSIX")
        date.timeZone = TimeZone(identifier: "GMT")
        date.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        XCTAssertEqual(PushDelivery.parseRetryAfter(date.string(from: now.addingTimeInterval(30)), now: now), .seconds(30))
        XCTAssertNil(PushDelivery.parseRetryAfter("soon", now: now))
        XCTAssertEqual(PushDelivery.outcome(status: 201, retryAfter: nil, detail: "", now: now), .delivered)
        XCTAssertEqual(PushDelivery.outcome(status: 410, retryAfter: nil, detail: "", now: now), .gone)
        XCTAssertEqual(PushDelivery.outcome(status: 404, retryAfter: nil, detail: "", now: now), .gone)
        XCTAssertEqual(PushDelivery.outcome(status: 429, retryAfter: "3", detail: "", now: now), .retry(after: .seconds(3)))
        XCTAssertEqual(PushDelivery.outcome(status: 503, retryAfter: nil, detail: "", now: now), .retry(after: nil))
        XCTAssertEqual(PushDelivery.outcome(status: 413, retryAfter: nil, detail: "too big", now: now), .rejected("HTTP 413: too big"))
    }

    // MARK: - Payload

    func testAnyTextFitsOneRecord() throws {
        let family = String(repeating: "👨‍👩‍👧‍👦", count: 300)
        let accents = String(repeating: "a" + String(repeating: "\u{301}", count: 400), count: 50)
        for text in [family, accents] {
            let message = PushPayload.Message(conversationID: UUID(), messageID: UUID(), kind: .group, senderName: text,
                                              content: text, type: "text", fileName: nil, sentAt: Date(), groupName: text)
            let payload = PushPayload.preview(of: message)
            XCTAssertLessThanOrEqual(payload.body.utf8.count, PushPayload.maxBodyBytes)
            XCTAssertTrue(payload.body.hasSuffix("…"))
            XCTAssertLessThanOrEqual(try payload.encoded().count, PushEncryption.maxPayload)
        }
        var photo = PushPayload.Message(conversationID: UUID(), messageID: UUID(), kind: .direct, senderName: "Ann", content: "",
                                        type: "image", fileName: "a.jpg", sentAt: Date())
        photo.caption = "the view"
        XCTAssertEqual(PushPayload.preview(of: photo).body, "📷 the view", "an upload's words are its caption")
    }

    func testTopicIsStablePerDeviceAndConversationAndSaysNothing() {
        let delivery = PushDelivery(client: HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup), signer: VapidSigner(identity: .generated()),
                                    topicKey: SymmetricKey(size: .bits256))
        defer { try? delivery.client.syncShutdown() }
        let (phone, laptop, chat) = (UUID(), UUID(), UUID())
        let topic = delivery.topic(of: .init(subscriptionID: phone, conversationID: chat))
        XCTAssertEqual(topic.count, 32)
        XCTAssertEqual(topic, delivery.topic(of: .init(subscriptionID: phone, conversationID: chat)))
        XCTAssertNotEqual(topic, delivery.topic(of: .init(subscriptionID: laptop, conversationID: chat)), "devices cannot be linked")
        XCTAssertFalse(topic.lowercased().contains(chat.wire.replacingOccurrences(of: "-", with: "").prefix(8)))
    }

    func testPayloadWithAndWithoutPreview() throws {
        let message = PushPayload.Message(conversationID: UUID(), messageID: UUID(), kind: .group, senderName: "Alice",
                                          content: String(repeating: "é", count: 300), type: "text", fileName: nil,
                                          sentAt: Date(timeIntervalSince1970: 0), groupName: "Team")
        let preview = PushPayload.preview(of: message)
        XCTAssertEqual(preview.title, "Alice · Team")
        XCTAssertEqual(preview.body.count, PushPayload.maxBody)
        XCTAssertTrue(preview.body.hasSuffix("…"))
        XCTAssertEqual(preview.url, "/#/c/\(message.conversationID.wire)")
        let hidden = try XCTUnwrap(String(data: PushPayload.withoutPreview(of: message, productName: "Chatr").encoded(), encoding: .utf8))
        XCTAssertFalse(hidden.contains("Alice") || hidden.contains("Team") || hidden.contains("é") || hidden.contains(message.messageID.wire))
        XCTAssertTrue(hidden.contains("New message"))
        var voice = message
        voice.type = "voice"
        XCTAssertEqual(PushPayload.preview(of: voice).body, "🎤 Voice message")
        var photo = message
        (photo.type, photo.content) = ("image", "")
        XCTAssertEqual(PushPayload.preview(of: photo).body, "📷 Photo")
    }

    // MARK: - Queue

    /// A push service whose answers are scripted, and whose first answer can be held back.
    actor ScriptedService {
        var answers: [PushOutcome]
        var sent: [PushJob] = []
        var forgotten: [UUID] = []
        private var gate: CheckedContinuation<Void, Never>?
        private var holdFirst: Bool

        init(_ answers: [PushOutcome], holdFirst: Bool = false) {
            self.answers = answers
            self.holdFirst = holdFirst
        }

        func send(_ job: PushJob) async -> PushOutcome {
            sent.append(job)
            if holdFirst {
                holdFirst = false
                await withCheckedContinuation { gate = $0 }
            }
            return answers.isEmpty ? .delivered : answers.removeFirst()
        }

        func release() { gate?.resume(); gate = nil }
        var isHolding: Bool { gate != nil }
        func forget(_ id: UUID) { forgotten.append(id) }
    }

    private func queue(_ service: ScriptedService) -> PushQueue {
        PushQueue(concurrency: 2, capacity: 100, logger: Logger(label: "push-test"),
                  send: { await service.send($0) }, forget: { await service.forget($0) })
    }

    private func job(_ subscription: UUID, _ conversation: UUID, _ body: String, user: UUID = UUID(),
                     host: String = "push.example.com") -> PushJob {
        PushJob(key: .init(subscriptionID: subscription, conversationID: conversation), userID: user, endpoint: "https://\(host)/1",
                p256dh: "", auth: "", payload: PushPayload(conversationId: conversation.wire, kind: "direct", title: "A", body: body, url: "/"),
                urgency: "high")
    }

    private func waitUntil(_ what: String, _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !(await condition()) {
            guard ContinuousClock.now < deadline else { return XCTFail("timed out waiting: \(what)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func testMessagesWaitingForADeviceFoldIntoOnePush() async throws {
        let service = ScriptedService([], holdFirst: true)
        let pushes = queue(service)
        let (device, chat) = (UUID(), UUID())
        await pushes.enqueue([job(device, chat, "one")])
        try await waitUntil("the first push is in flight") { await service.isHolding }
        await pushes.enqueue([job(device, chat, "two")])
        await pushes.enqueue([job(device, chat, "three")])
        await service.release()
        try await waitUntil("all sent") { await pushes.pending == 0 }
        let sent = await service.sent
        XCTAssertEqual(sent.map(\.payload.body), ["one", "three"])
        XCTAssertEqual(sent.map(\.payload.count), [1, 2], "the second push stands for two messages")
    }

    func testBusyServiceIsRetried() async throws {
        let service = ScriptedService([.retry(after: .milliseconds(20)), .retry(after: .zero), .delivered])
        let pushes = queue(service)
        await pushes.enqueue([job(UUID(), UUID(), "hello")])
        try await waitUntil("delivered after two retries") {
            let (sent, pending) = (await service.sent.count, await pushes.pending)
            return sent == 3 && pending == 0
        }
        let retried = await service.sent.map(\.payload.body)
        XCTAssertEqual(retried, ["hello", "hello", "hello"])
    }

    func testAGoneDeviceIsForgottenWithWhatWaitedForIt() async throws {
        let service = ScriptedService([.gone], holdFirst: true)
        // One slot: the device's second push waits while the first is answered.
        let pushes = PushQueue(concurrency: 1, capacity: 100, logger: Logger(label: "push-test"),
                               send: { await service.send($0) }, forget: { await service.forget($0) })
        let (gone, chat, other) = (UUID(), UUID(), UUID())
        await pushes.enqueue([job(gone, chat, "a")])
        try await waitUntil("in flight") { await service.isHolding }
        await pushes.enqueue([job(gone, other, "b")])
        await service.release()
        try await waitUntil("forgotten") { await service.forgotten == [gone] }
        try await waitUntil("settled") { await pushes.pending == 0 }
        let sent = await service.sent.map(\.payload.body)
        XCTAssertEqual(sent, ["a"], "the device's other waiting push is dropped, not sent")
    }

    func testFailuresStopAfterFiveAttempts() async throws {
        let service = ScriptedService(Array(repeating: .retry(after: .zero), count: 7))
        let pushes = queue(service)
        await pushes.enqueue([job(UUID(), UUID(), "x")])
        try await waitUntil("given up") {
            let (sent, pending) = (await service.sent.count, await pushes.pending)
            return sent == PushQueue.maxAttempts && pending == 0
        }
        try await Task.sleep(for: .milliseconds(50))
        let attempts = await service.sent.count
        XCTAssertEqual(attempts, PushQueue.maxAttempts)
    }

    func testARefusedPushIsNotRetried() async throws {
        let service = ScriptedService([.rejected("HTTP 400: bad")])
        let pushes = queue(service)
        await pushes.enqueue([job(UUID(), UUID(), "x")])
        try await waitUntil("settled") { await pushes.pending == 0 }
        try await Task.sleep(for: .milliseconds(50))
        let attempts = await service.sent.count
        XCTAssertEqual(attempts, 1)
    }

    func testOnePushServiceCannotTakeEverySlot() async throws {
        let service = ScriptedService([], holdFirst: true)
        let pushes = PushQueue(concurrency: 8, perHost: 1, capacity: 100, logger: Logger(label: "push-test"),
                               send: { await service.send($0) }, forget: { _ in })
        await pushes.enqueue([job(UUID(), UUID(), "slow 1", host: "slow.example.com")])
        try await waitUntil("the slow service holds one") { await service.isHolding }
        await pushes.enqueue([job(UUID(), UUID(), "slow 2", host: "slow.example.com"), job(UUID(), UUID(), "fast", host: "fast.example.com")])
        try await waitUntil("the other service is not kept waiting") { await service.sent.count == 2 }
        var sent = await service.sent.map(\.payload.body)
        XCTAssertEqual(sent, ["slow 1", "fast"], "the slow service's second push waits for its first")
        await service.release()
        try await waitUntil("settled") { await pushes.pending == 0 }
        sent = await service.sent.map(\.payload.body)
        XCTAssertEqual(sent, ["slow 1", "fast", "slow 2"])
    }

    func testMutingOrSigningOutCancelsWhatWaits() async throws {
        let service = ScriptedService([], holdFirst: true)
        let pushes = PushQueue(concurrency: 1, capacity: 100, logger: Logger(label: "push-test"),
                               send: { await service.send($0) }, forget: { _ in })
        let (ann, bob, chat, other, annPhone, bobPhone) = (UUID(), UUID(), UUID(), UUID(), UUID(), UUID())
        await pushes.enqueue([job(UUID(), UUID(), "first")])
        try await waitUntil("the only slot is taken") { await service.isHolding }
        await pushes.enqueue([job(annPhone, chat, "ann, muted chat", user: ann), job(annPhone, other, "ann, other chat", user: ann),
                              job(bobPhone, chat, "bob, signed out", user: bob)])
        await pushes.cancel(user: ann, conversation: chat)
        await pushes.cancel(subscriptions: [bobPhone])
        await service.release()
        try await waitUntil("settled") { await pushes.pending == 0 }
        let sent = await service.sent.map(\.payload.body)
        XCTAssertEqual(sent, ["first", "ann, other chat"])
    }

    func testAFullQueueDropsNewPushesAndAStoppedOneSendsNothing() async throws {
        let service = ScriptedService([], holdFirst: true)
        let pushes = PushQueue(concurrency: 1, capacity: 2, logger: Logger(label: "push-test"),
                               send: { await service.send($0) }, forget: { _ in })
        await pushes.enqueue((0..<5).map { job(UUID(), UUID(), "m\($0)") })
        try await waitUntil("one in flight") { await service.isHolding }
        let pending = await pushes.pending
        XCTAssertEqual(pending, 2, "room for two: one now in flight, one waiting; three dropped")
        await pushes.stop()
        await service.release()
        try await waitUntil("settled") { await pushes.pending == 0 }
        await pushes.enqueue([job(UUID(), UUID(), "late")])
        try await Task.sleep(for: .milliseconds(50))
        let sent = await service.sent.map(\.payload.body)
        XCTAssertEqual(sent, ["m0"])
    }
}
