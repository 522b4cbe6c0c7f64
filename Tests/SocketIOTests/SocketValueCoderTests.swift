import Foundation
import XCTest
@testable import SocketIO

/// `SocketValueDecoder` / `SocketValueEncoder`: typed payloads without JSON text in between.
/// They must agree with `JSONDecoder` / `JSONEncoder` wherever JSON can say the same thing.
final class SocketValueCoderTests: XCTestCase {
    struct Everything: Codable, Equatable {
        enum Kind: String, Codable { case text, voice }
        struct Inner: Codable, Equatable { var id: String; var tags: [String] }
        var text: String
        var int: Int
        var int8: Int8
        var uint64: UInt64
        var double: Double
        var float: Float
        var flag: Bool
        var kind: Kind
        var optional: String?
        var nullable: Int?
        var list: [Int]
        var nested: [[Double]]
        var inner: Inner
        var map: [String: Int]
        var date: Date
    }

    static let sample = Everything(text: "héllo \"you\" 😀", int: -42, int8: 7, uint64: 1 << 40, double: 0.25, float: 1.5, flag: true,
                                   kind: .voice, optional: "here", nullable: nil, list: [1, 2, 3], nested: [[1.5], []],
                                   inner: .init(id: "i", tags: ["a", "b"]), map: ["k": 1],
                                   date: Date(timeIntervalSince1970: 1_790_000_000.25))

    func testDecodingAgreesWithJSONDecoder() throws {
        let json = #"{"text":"h\u00e9llo \"you\" 😀","int":-42,"int8":7,"uint64":1099511627776,"double":0.25,"float":1.5,"flag":true,"kind":"voice","optional":"here","nullable":null,"list":[1,2,3],"nested":[[1.5],[]],"inner":{"id":"i","tags":["a","b"]},"map":{"k":1},"date":100.25}"#
        let value = try JSONCodec.parse(json)
        let direct = try SocketValueDecoder().decode(Everything.self, from: value)
        let viaJSON = try JSONDecoder().decode(Everything.self, from: Data(json.utf8))
        XCTAssertEqual(direct.text, viaJSON.text)
        XCTAssertEqual(direct.inner, viaJSON.inner)
        XCTAssertEqual(direct.map, viaJSON.map)
        XCTAssertEqual(direct.nullable, nil)
        XCTAssertEqual(direct.date, viaJSON.date, "dates decode as JSONDecoder's default does")
        XCTAssertEqual(direct, viaJSON)
    }

    func testDecodingErrorsNameTheField() throws {
        struct Send: Decodable { var recipientId: String; var content: String; var count: Int? }
        func failure(_ value: SocketValue) -> DecodingError? {
            let result = Result { try SocketValueDecoder().decode(Send.self, from: value) }
            if case .failure(let error) = result { return error as? DecodingError }
            return nil
        }
        guard case .keyNotFound(let key, _)? = failure(["recipientId": "r"]) else { return XCTFail("missing key") }
        XCTAssertEqual(key.stringValue, "content")
        guard case .typeMismatch(_, let context)? = failure(["recipientId": "r", "content": 5]) else { return XCTFail("wrong type") }
        XCTAssertEqual(context.codingPath.map(\.stringValue), ["content"])
        guard case .valueNotFound? = failure(["recipientId": .null, "content": "c"]) else { return XCTFail("null") }
        guard case .dataCorrupted? = failure(["recipientId": "r", "content": "c", "count": 1.5]) else { return XCTFail("not an integer") }
        guard case .dataCorrupted? = failure(["recipientId": "r", "content": "c", "count": 1e30]) else { return XCTFail("out of range") }
        guard case .typeMismatch? = failure("just a string") else { return XCTFail("not an object") }
        XCTAssertNil(failure(["recipientId": "r", "content": "c", "count": .null]), "null is nil for an optional")
        XCTAssertThrowsError(try SocketValue.array([1, "x"]).decode([Int].self))
    }

    func testEncodingAgreesWithJSONEncoder() throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        let viaJSON = try JSONCodec.parse(String(decoding: try encoder.encode(Self.sample), as: UTF8.self))
        let direct = try SocketValueEncoder().encode(Self.sample)
        XCTAssertEqual(direct, viaJSON)
        XCTAssertNil(direct["nullable"], "an absent optional is left out, as JSONEncoder does")
        XCTAssertEqual(direct["date"], "2026-09-21T14:13:20.250Z")
        XCTAssertEqual(direct.objectValue?.keys.first, "text", "keys keep the order the type encodes them in")
        // And back, dates included: the decoder reads the ISO 8601 text the encoder writes.
        XCTAssertEqual(try SocketValueDecoder().decode(Everything.self, from: direct), Self.sample)
    }

    func testFoundationTypesRoundTrip() throws {
        struct Kinds: Codable, Equatable { var url: URL; var data: Data; var amount: Decimal; var when: Date }
        let value = Kinds(url: URL(string: "https://chat.example/a?b=c")!, data: Data([0, 255]), amount: Decimal(string: "12.5")!,
                          when: Date(timeIntervalSince1970: 1_000_000_000.5))
        XCTAssertEqual(try SocketValueDecoder().decode(Kinds.self, from: try SocketValueEncoder().encode(value)), value)
        // What JSON text carries for the same fields is read too.
        let fromJSON: SocketValue = ["url": "https://chat.example/a?b=c", "data": "AP8=", "amount": 12.5, "when": 21_000_000.5]
        let decoded = try SocketValueDecoder().decode(Kinds.self, from: fromJSON)
        XCTAssertEqual(decoded.data, Data([0, 255]))
        XCTAssertEqual(decoded.when, Date(timeIntervalSinceReferenceDate: 21_000_000.5))
    }

    func testISO8601MatchesFoundation() {
        var generator = SystemRandomNumberGenerator()
        let random = (0..<2000).map { _ in Double.random(in: -2_208_988_800...4_102_444_800, using: &generator) }
        for seconds in [0, 1.5, 59.999, 951_782_400.001, 1_790_000_000.123, 4_102_444_799.999, -86_400.5] + random {
            let date = Date(timeIntervalSince1970: seconds)
            XCTAssertEqual(SocketValueEncoder.iso8601(date), date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)), "\(seconds)")
        }
    }

    func testEncodingRefusesWhatJSONCannotSay() {
        struct Bad: Encodable { var value: Double }
        XCTAssertThrowsError(try SocketValueEncoder().encode(Bad(value: .nan)), "NaN is not a silent null")
        XCTAssertThrowsError(try SocketValueEncoder().encode(Bad(value: .infinity)))
        struct Nothing: Encodable { func encode(to encoder: any Encoder) throws {} }
        XCTAssertThrowsError(try SocketValueEncoder().encode(Nothing()), "a type that encodes nothing is an error")
    }

    func testBinaryTravelsAsAttachments() throws {
        struct Upload: Codable, Equatable { var name: String; var bytes: Data }
        let value = try SocketValueEncoder().encode(Upload(name: "a", bytes: Data([1, 2, 3])))
        XCTAssertEqual(value["bytes"], .binary([1, 2, 3]))
        XCTAssertTrue(value.containsBinary)
        XCTAssertEqual(try value.decode(Upload.self), Upload(name: "a", bytes: Data([1, 2, 3])))
    }
}
