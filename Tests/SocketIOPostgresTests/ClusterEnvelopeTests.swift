import SocketIO
import XCTest
@testable import SocketIOPostgres

final class ClusterEnvelopeTests: XCTestCase {
    func testEveryMessageSurvivesTheWire() throws {
        let options = BroadcastOptions(rooms: ["conversation:1", "user:2"], except: ["sock"])
        let messages: [ClusterEnvelope.Message] = [
            .broadcast(options, [.text("42[\"message:new\",{\"a\":\"é\\\"\"}]"), .binary([0, 1, 255])]),
            .join(options, rooms: ["r1", "r2"]),
            .leave(BroadcastOptions(), rooms: ["r1"]),
            .disconnect(options, close: true),
            .event(name: "presence", args: ["x", 1, ["bin": .binary([9, 8])], .null], requestID: nil),
            .event(name: "snapshot", args: [], requestID: "rid-1"),
            .fetchSockets(options, requestID: "rid-2"),
            .reply(requestID: "rid-3", data: [["id": "s1", "rooms": ["a"]]]),
            .heartbeat(last: 12_345_678),
            .hello, .bye,
            .replay(from: 5, upTo: 9),
            .attachment(id: 77),
        ]
        for message in messages {
            let envelope = ClusterEnvelope(uid: "node-a", seq: message.isSequenced ? 41 : nil, namespace: "/", to: "node-b", message: message)
            XCTAssertEqual(try ClusterEnvelope(decoding: envelope.encoded()), envelope, "\(message)")
        }
    }

    /// Nodes skip their own notifications by this prefix, before parsing.
    func testEveryEnvelopeStartsWithTheVersionAndTheSendersID() {
        for message: ClusterEnvelope.Message in [.hello, .heartbeat(last: 3), .attachment(id: 9), .broadcast(BroadcastOptions(), [.text("x")])] {
            XCTAssertTrue(ClusterEnvelope(uid: "ab12", seq: 1, namespace: "/", message: message).encoded().hasPrefix(#"{"v":1,"uid":"ab12""#))
        }
    }

    /// A notification from a node of another version, or garbage, is an error to log — never a crash or a guess.
    func testWhatDoesNotParseIsRefusedWithAReason() {
        let bad = [
            "", "not json", "[]", "{}",
            #"{"v":2,"uid":"a","nsp":"/","type":"hello"}"#,
            #"{"v":1,"uid":"a","nsp":"/","type":"teleport"}"#,
            #"{"v":1,"uid":"a","nsp":"/","type":"broadcast","opts":{"rooms":[1]},"packet":["x"]}"#,
            #"{"v":1,"uid":"a","nsp":"/","type":"broadcast","opts":{},"packet":[]}"#,
            #"{"v":1,"uid":"a","nsp":"/","type":"replay","from":-1,"upTo":2}"#,
            #"{"v":1,"uid":"a","nsp":"/","seq":1.5,"type":"hello"}"#,
            #"{"v":1,"uid":"a","nsp":"/","type":"attachment","id":0}"#,
            #"{"v":1,"uid":"a","nsp":"/","type":"fetch","opts":{}}"#,
            // Numbers no integer can hold: refused, never a trap.
            #"{"v":1e300,"uid":"a","nsp":"/","type":"hello"}"#,
            #"{"v":1e400,"uid":"a","nsp":"/","type":"hello"}"#,
            #"{"v":1,"uid":"a","nsp":"/","type":"attachment","id":1e300}"#,
            #"{"v":1,"uid":"a","nsp":"/","type":"attachment","id":1e400}"#,
            #"{"v":1,"uid":"a","nsp":"/","seq":1e400,"type":"hello"}"#,
            #"{"v":1,"uid":"a","nsp":"/","type":"heartbeat","last":-1e400}"#,
        ]
        for text in bad {
            XCTAssertThrowsError(try ClusterEnvelope(decoding: text), text) { error in
                XCTAssertTrue(error is ClusterEnvelope.DecodingError, "\(error)")
            }
        }
    }
}

final class OriginSequenceTests: XCTestCase {
    let start = ContinuousClock.now

    func envelope(_ seq: UInt64) -> ClusterEnvelope {
        ClusterEnvelope(uid: "b", seq: seq, namespace: "/", message: .hello)
    }

    func testInOrderMessagesPassAndDuplicatesAreDropped() {
        var sequence = OriginSequence()
        XCTAssertEqual(sequence.receive(envelope(10), seq: 10, now: start).ready.map(\.seq), [10])
        XCTAssertEqual(sequence.receive(envelope(11), seq: 11, now: start).ready.map(\.seq), [11])
        XCTAssertEqual(sequence.receive(envelope(11), seq: 11, now: start), OriginSequence.Outcome())
        XCTAssertEqual(sequence.receive(envelope(3), seq: 3, now: start), OriginSequence.Outcome())
    }

    /// Away for a while: later messages wait, the missing ones are asked for once, then all go in order.
    func testAGapIsHeldAskedForAndFilledInOrder() {
        var sequence = OriginSequence()
        _ = sequence.receive(envelope(1), seq: 1, now: start)
        let after = sequence.receive(envelope(5), seq: 5, now: start)
        XCTAssertEqual(after.ready, [])
        XCTAssertEqual(after.replay, 2...4, "not 5: it is here")
        XCTAssertNil(sequence.receive(envelope(6), seq: 6, now: start).replay, "asked once per gap")
        XCTAssertEqual(sequence.receive(envelope(3), seq: 3, now: start).ready, [], "2 is still missing")
        XCTAssertEqual(sequence.receive(envelope(2), seq: 2, now: start).ready.map(\.seq), [2, 3])
        XCTAssertEqual(sequence.receive(envelope(4), seq: 4, now: start).ready.map(\.seq), [4, 5, 6])
        XCTAssertEqual(sequence.expire(now: start + .seconds(60), timeout: .seconds(3)), OriginSequence.Outcome(), "no gap left")
    }

    /// Nothing more was sent after the messages missed: the heartbeat shows the gap.
    func testAHeartbeatRevealsATrailingGap() {
        var sequence = OriginSequence()
        _ = sequence.receive(envelope(1), seq: 1, now: start)
        XCTAssertNil(sequence.heartbeat(last: 1, now: start).replay)
        XCTAssertEqual(sequence.heartbeat(last: 4, now: start).replay, 2...4)
        XCTAssertEqual(sequence.heartbeat(last: 6, now: start).replay, 2...6, "a heartbeat asks again for the whole gap (a request can be lost)")
        XCTAssertEqual(sequence.receive(envelope(2), seq: 2, now: start).ready.map(\.seq), [2])
        XCTAssertEqual(sequence.receive(envelope(5), seq: 5, now: start).replay, nil, "a message asks only for what is new")
        XCTAssertEqual(sequence.heartbeat(last: 6, now: start).replay, 3...6, "from the first missing to the last missing")
    }

    /// A gap never filled (the sender no longer has them) is given up on, counted, and skipped.
    func testAGapNotFilledInTimeIsGivenUpAndCounted() {
        var sequence = OriginSequence()
        _ = sequence.receive(envelope(1), seq: 1, now: start)
        _ = sequence.receive(envelope(5), seq: 5, now: start)
        XCTAssertEqual(sequence.expire(now: start + .seconds(1), timeout: .seconds(3)), OriginSequence.Outcome())
        let expired = sequence.expire(now: start + .seconds(3), timeout: .seconds(3))
        XCTAssertEqual(expired.missed, 3)
        XCTAssertEqual(expired.ready.map(\.seq), [5])
        XCTAssertEqual(sequence.receive(envelope(6), seq: 6, now: start).ready.map(\.seq), [6])

        var trailing = OriginSequence()
        _ = trailing.receive(envelope(1), seq: 1, now: start)
        _ = trailing.heartbeat(last: 3, now: start)
        XCTAssertEqual(trailing.expire(now: start + .seconds(5), timeout: .seconds(3)).missed, 2)
        XCTAssertEqual(trailing.receive(envelope(4), seq: 4, now: start).ready.map(\.seq), [4])
    }

    func testTheReplayRingKeepsTheNewest() {
        var ring = ReplayRing(capacity: 4)
        for seq in UInt64(1)...10 { ring.store(seq, "m\(seq)") }
        XCTAssertEqual(ring.texts(in: 7...10), ["m7", "m8", "m9", "m10"])
        XCTAssertEqual(ring.texts(in: 2...8), ["m7", "m8"])
        XCTAssertEqual(ring.texts(in: 1...3), [])
    }
}
