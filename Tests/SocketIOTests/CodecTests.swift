import XCTest
@testable import SocketIO

final class EngineCodecTests: XCTestCase {
    func testGoldenPackets() throws {
        XCTAssertEqual(EngineCodec.encode(EnginePacket(.message, "hello")), "4hello")
        XCTAssertEqual(EngineCodec.encode(EnginePacket(.ping)), "2")
        XCTAssertEqual(EngineCodec.encode(EnginePacket(.pong, "probe")), "3probe")
        XCTAssertEqual(EngineCodec.encode(EnginePacket(binary: [1, 2, 3, 4])), "bAQIDBA==")
        XCTAssertEqual(try EngineCodec.decode(text: "4hello"), EnginePacket(.message, "hello"))
        XCTAssertEqual(try EngineCodec.decode(text: "6"), EnginePacket(.noop))
        XCTAssertEqual(try EngineCodec.decode(text: "bAQIDBA=="), EnginePacket(binary: [1, 2, 3, 4]))
    }

    func testPollingPayloads() throws {
        let packets = [EnginePacket(.message, "hello"), EnginePacket(binary: [1, 2, 3, 4]), EnginePacket(.ping)]
        let encoded = EngineCodec.encodePayload(packets)
        XCTAssertEqual(encoded, "4hello\u{1e}bAQIDBA==\u{1e}2")
        XCTAssertEqual(try EngineCodec.decodePayload(encoded), packets)
        XCTAssertEqual(try EngineCodec.decodePayload("4a\u{1e}4b"), [EnginePacket(.message, "a"), EnginePacket(.message, "b")])
    }

    func testMalformedPackets() {
        XCTAssertThrowsError(try EngineCodec.decode(text: "")) { XCTAssertEqual($0 as? EngineDecodingError, .empty) }
        XCTAssertThrowsError(try EngineCodec.decode(text: "9x")) { XCTAssertEqual($0 as? EngineDecodingError, .unknownType) }
        XCTAssertThrowsError(try EngineCodec.decode(text: "x")) { XCTAssertEqual($0 as? EngineDecodingError, .unknownType) }
        XCTAssertThrowsError(try EngineCodec.decode(text: "b!!!")) { XCTAssertEqual($0 as? EngineDecodingError, .invalidBase64) }
        XCTAssertThrowsError(try EngineCodec.decodePayload(""))
        XCTAssertThrowsError(try EngineCodec.decodePayload("4a\u{1e}\u{1e}4b"), "an empty record is invalid")
        XCTAssertThrowsError(try EngineCodec.decodePayload("4a\u{1e}garbage"))
    }
}

final class SocketCodecTests: XCTestCase {
    func encode(_ packet: SocketPacket) -> String { SocketCodec.encode(packet).text }

    func testGoldenStrings() throws {
        XCTAssertEqual(encode(SocketPacket(.connect)), "0")
        XCTAssertEqual(encode(SocketPacket(.connect, namespace: "/admin", data: ["sid": "oSO0OpakMV_3jnilAAAA"])), #"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#)
        XCTAssertEqual(encode(SocketPacket(.disconnect, namespace: "/admin")), "1/admin,")
        XCTAssertEqual(encode(SocketPacket(.event, data: ["hello", 1])), #"2["hello",1]"#)
        XCTAssertEqual(encode(SocketPacket(.event, namespace: "/admin", id: 456, data: ["project:delete", 123])), #"2/admin,456["project:delete",123]"#)
        XCTAssertEqual(encode(SocketPacket(.ack, namespace: "/admin", id: 456, data: [])), "3/admin,456[]")
        XCTAssertEqual(encode(SocketPacket(.connectError, data: ["message": "Not authorized"])), #"4{"message":"Not authorized"}"#)
    }

    func testBinaryEventsUsePlaceholders() throws {
        let packet = SocketPacket(.event, data: ["hello", .binary([1, 2, 3])])
        let (text, attachments) = SocketCodec.encode(packet)
        XCTAssertEqual(text, #"51-["hello",{"_placeholder":true,"num":0}]"#)
        XCTAssertEqual(attachments, [[1, 2, 3]])
        let ack = SocketCodec.encode(SocketPacket(.ack, namespace: "/admin", id: 456, data: ["a", .binary([9]), ["b": .binary([8])]]))
        XCTAssertEqual(ack.text, #"62-/admin,456["a",{"_placeholder":true,"num":0},{"b":{"_placeholder":true,"num":1}}]"#)
        XCTAssertEqual(ack.attachments, [[9], [8]])

        let (decoded, count) = try SocketCodec.decode(text)
        XCTAssertEqual(count, 1)
        var assembler = BinaryAssembler()
        XCTAssertNil(try assembler.start(decoded, attachments: count))
        let complete = try XCTUnwrap(try assembler.add([1, 2, 3]))
        XCTAssertEqual(complete, SocketPacket(.event, data: ["hello", .binary([1, 2, 3])]))
    }

    func testDecodesEveryPart() throws {
        let (packet, _) = try SocketCodec.decode(#"2/chat,12["msg",{"a":[1,2.5,true,null,"x\"y\u00e9"]}]"#)
        XCTAssertEqual(packet.type, .event)
        XCTAssertEqual(packet.namespace, "/chat")
        XCTAssertEqual(packet.id, 12)
        XCTAssertEqual(packet.data, ["msg", ["a": [1, 2.5, true, nil, "x\"yé"]]])
        let (connect, _) = try SocketCodec.decode("0/custom,")
        XCTAssertEqual(connect, SocketPacket(.connect, namespace: "/custom"))
        let (withAuth, _) = try SocketCodec.decode(#"0{"token":"abc"}"#)
        XCTAssertEqual(withAuth.data, ["token": "abc"])
    }

    func testRoundTrips() throws {
        let packets = [
            SocketPacket(.event, namespace: "/", id: nil, data: ["e", "text with \n newline and \u{1F600}", -12.75, 1e21, ["k": ["nested": [nil]]]]),
            SocketPacket(.ack, namespace: "/x", id: 0, data: []),
            SocketPacket(.connectError, namespace: "/x", data: "plain reason"),
            SocketPacket(.disconnect),
        ]
        for packet in packets {
            let (decoded, _) = try SocketCodec.decode(encode(packet))
            XCTAssertEqual(decoded, packet, encode(packet))
        }
    }

    func testMalformedPacketsAreTypedErrors() {
        let cases: [(String, SocketDecodingError)] = [
            ("", .empty),
            ("7", .unknownType),
            ("a", .unknownType),
            ("2", .invalidPayload("EVENT payload must be an array starting with the event name")),
            (#"2{"a":1}"#, .invalidPayload("EVENT payload must be an array starting with the event name")),
            ("2[]", .invalidPayload("EVENT payload must be an array starting with the event name")),
            ("2[1]", .invalidPayload("EVENT payload must be an array starting with the event name")),
            ("3[]", .invalidAckID),
            ("312", .invalidPayload("ACK payload must be an array")),
            ("0[]", .invalidPayload("CONNECT payload must be an object")),
            ("1{}", .invalidPayload("DISCONNECT carries no payload")),
            ("4", .invalidPayload("CONNECT_ERROR payload must be an object or a string")),
            ("5[\"a\"]", .invalidAttachments),
            ("5x-[\"a\"]", .invalidAttachments),
            ("511-[\"a\"]", .tooManyAttachments),
            ("21234567890123456[\"a\"]", .invalidAckID),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try SocketCodec.decode(text), text) { error in
                XCTAssertEqual(error as? SocketDecodingError, expected, text)
            }
        }
        for text in ["2[\"a\"", "2[\"a\",]", "2[\"a\"]x", "2[\"\\q\"]", "2[\"\\ud800\"]", "2[01]", "2[-]", "2[1.]", "2[tru]",
                     "2[" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "]"] {
            XCTAssertThrowsError(try SocketCodec.decode(text), text) { error in
                guard case .invalidJSON = error as? SocketDecodingError else { return XCTFail("\(text): \(error)") }
            }
        }
    }

    func testPlaceholdersMustReferToReceivedBuffers() throws {
        var assembler = BinaryAssembler()
        let (packet, count) = try SocketCodec.decode(#"51-["a",{"_placeholder":true,"num":3}]"#)
        XCTAssertNil(try assembler.start(packet, attachments: count))
        XCTAssertThrowsError(try assembler.add([1])) { XCTAssertEqual($0 as? SocketDecodingError, .invalidPlaceholder) }
        var idle = BinaryAssembler()
        XCTAssertThrowsError(try idle.add([1])) { XCTAssertEqual($0 as? SocketDecodingError, .unexpectedBinary) }
    }
}

final class JSONCodecTests: XCTestCase {
    func testParsesAndWritesJSON() throws {
        let text = #"{"a":[1,-2,3.5,1e3,true,false,null],"b":"\u0041\n\t\"\\\/","c":{}}"#
        let value = try JSONCodec.parse(text)
        XCTAssertEqual(value, ["a": [1, -2, 3.5, 1000, true, false, nil], "b": "A\n\t\"\\/", "c": [:]])
        XCTAssertEqual(JSONCodec.serialize(value), #"{"a":[1,-2,3.5,1000,true,false,null],"b":"A\n\t\"\\/","c":{}}"#)
        XCTAssertEqual(try JSONCodec.parse(#""\ud83d\ude00""#), "😀")
        XCTAssertEqual(JSONCodec.serialize("\u{01}"), #""\u0001""#)
        XCTAssertEqual(try JSONCodec.parse(" [ 1 , 2 ] "), [1, 2])
    }

    /// The eight-bytes-at-a-time scan must find exactly what a byte-by-byte scan finds, wherever
    /// the special byte sits in a word, next to multi-byte UTF-8 and bytes just around the limits.
    func testWordScanAgreesWithTheByteScan() {
        let alphabet: [UInt8] = [0x00, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x41, 0x7F, 0x80, 0xC3, 0xA9, 0xE2, 0xFF]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...40, using: &generator)
            // Mostly plain letters, so the special byte is often deep inside a word.
            let bytes: [UInt8] = (0..<count).map { _ in
                Int.random(in: 0..<6, using: &generator) == 0 ? alphabet.randomElement(using: &generator)! : UInt8.random(in: 0x61...0x7A, using: &generator)
            }
            let start = count == 0 ? 0 : Int.random(in: 0...count, using: &generator)
            let expected = (start..<count).first { bytes[$0] < 0x20 || bytes[$0] == 0x22 || bytes[$0] == 0x5C } ?? count
            bytes.withUnsafeBufferPointer { buffer in
                XCTAssertEqual(JSONCodec.plainRun(buffer, from: start), expected, "\(bytes) from \(start)")
            }
        }
    }

    func testStringsRoundTripWhateverTheirLength() throws {
        for length in 0...40 {
            for special in ["\"", "\\", "\n", "\u{01}", "é", "😀", "a"] {
                for position in [0, length / 2, length] {
                    var text = String(repeating: "x", count: length)
                    text.insert(contentsOf: special, at: text.index(text.startIndex, offsetBy: position))
                    let json = JSONCodec.serialize(.string(text))
                    XCTAssertEqual(try JSONCodec.parse(json), .string(text), json)
                }
            }
        }
    }
}

final class SocketObjectTests: XCTestCase {
    func testKeysKeepTheirOrderAndTheLastDuplicateWins() throws {
        let parsed = try JSONCodec.parse(#"{"z":1,"a":2,"m":{"y":true,"b":null}}"#)
        XCTAssertEqual(JSONCodec.serialize(parsed), #"{"z":1,"a":2,"m":{"y":true,"b":null}}"#, "re-encodes as it came")
        XCTAssertEqual(parsed, ["a": 2, "m": ["b": nil, "y": true], "z": 1], "equality ignores order")
        XCTAssertEqual(try JSONCodec.parse(#"{"k":1,"x":0,"k":2}"#), ["x": 0, "k": 2])
        let many = "{" + (0..<50).map { "\"k\($0 % 40)\":\($0)" }.joined(separator: ",") + "}"
        let object = try XCTUnwrap(try JSONCodec.parse(many).objectValue)
        XCTAssertEqual(object.count, 40)
        XCTAssertEqual(object["k0"], 40)
        var edited = object
        edited["k0"] = nil
        XCTAssertEqual(edited.count, 39)
        XCTAssertNil(edited["k0"])
    }
}
