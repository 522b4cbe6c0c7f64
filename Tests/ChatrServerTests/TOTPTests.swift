import XCTest
@testable import ChatrServer

final class TOTPTests: XCTestCase {
    /// RFC 6238 Appendix B: 8-digit codes for the three HMAC algorithms.
    func testRFC6238TestVectors() {
        let sha1 = Array("12345678901234567890".utf8)
        let sha256 = Array("12345678901234567890123456789012".utf8)
        let sha512 = Array("1234567890123456789012345678901234567890123456789012345678901234".utf8)
        let vectors: [(TimeInterval, String, String, String)] = [
            (59, "94287082", "46119246", "90693936"),
            (1_111_111_109, "07081804", "68084774", "25091201"),
            (1_111_111_111, "14050471", "67062674", "99943326"),
            (1_234_567_890, "89005924", "91819424", "93441116"),
            (2_000_000_000, "69279037", "90698825", "38618901"),
            (20_000_000_000, "65353130", "77737706", "47863826"),
        ]
        for (time, expected1, expected256, expected512) in vectors {
            let date = Date(timeIntervalSince1970: time)
            XCTAssertEqual(TimeOTP(secret: sha1, digits: 8, algorithm: .sha1).code(at: date), expected1, "SHA1 at \(time)")
            XCTAssertEqual(TimeOTP(secret: sha256, digits: 8, algorithm: .sha256).code(at: date), expected256, "SHA256 at \(time)")
            XCTAssertEqual(TimeOTP(secret: sha512, digits: 8, algorithm: .sha512).code(at: date), expected512, "SHA512 at \(time)")
        }
    }

    /// RFC 4226 Appendix D: the HOTP values the 6-digit TimeOTP is built on.
    func testRFC4226HOTPValues() {
        let totp = TimeOTP(secret: Array("12345678901234567890".utf8))
        let expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]
        for (counter, code) in expected.enumerated() {
            XCTAssertEqual(totp.code(counter: UInt64(counter)), code)
        }
    }

    func testValidationAcceptsOneStepOfDriftOnly() {
        let totp = TimeOTP(secret: Array("12345678901234567890".utf8))
        let now = Date(timeIntervalSince1970: 1_234_567_890)
        XCTAssertTrue(totp.validate(totp.code(at: now), at: now))
        XCTAssertTrue(totp.validate(totp.code(at: now.addingTimeInterval(-30)), at: now))
        XCTAssertTrue(totp.validate(totp.code(at: now.addingTimeInterval(30)), at: now))
        XCTAssertFalse(totp.validate(totp.code(at: now.addingTimeInterval(-90)), at: now))
        XCTAssertFalse(totp.validate("12345", at: now))
        XCTAssertFalse(totp.validate("abcdef", at: now))
        XCTAssertFalse(totp.validate("", at: now))
    }

    /// RFC 4648 §10 test vectors.
    func testBase32() {
        let vectors = [("", ""), ("f", "MY"), ("fo", "MZXQ"), ("foo", "MZXW6"), ("foob", "MZXW6YQ"), ("fooba", "MZXW6YTB"), ("foobar", "MZXW6YTBOI")]
        for (plain, encoded) in vectors {
            XCTAssertEqual(Base32.encode(Array(plain.utf8)), encoded)
            XCTAssertEqual(Base32.decode(encoded), Array(plain.utf8))
        }
        XCTAssertEqual(Base32.decode("mzxw 6ytb oi=="), Array("foobar".utf8), "lower case, spaces and padding are accepted")
        XCTAssertNil(Base32.decode("MZ1W"), "1 is not in the alphabet")
    }

    func testProvisioningURIIsWhatAuthenticatorsExpect() {
        let totp = TimeOTP(secret: Array("12345678901234567890".utf8))
        let uri = totp.provisioningURI(account: "ann@example.com", issuer: "Chatr")
        XCTAssertEqual(uri, "otpauth://totp/Chatr:ann@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Chatr&algorithm=SHA1&digits=6&period=30")
    }
}
