import XCTVapor
@testable import ChatrServer

/// Link previews: what a page's head says, which addresses the server will fetch, and the
/// route's refusals. (Fetching real pages — redirects, limits, the cache, pictures — is in
/// Tests/interop/test_link_preview.py, against a local web server.)
final class LinkPreviewParserTests: XCTestCase {
    func testOpenGraphWinsThenTwitterThenTheTitle() {
        let page = LinkPreviewParser.parse("""
            <!doctype html><html><head>
            <title>Plain title</title>
            <meta name="description" content="Plain description">
            <meta property="og:title" content="Release notes &amp; more &#8212; v2 &#x1F680;">
            <meta content='Single &quot;quoted&quot;' property='og:description'>
            <meta property=og:image content=/img/card.png>
            <meta name="twitter:title" content="Twitter title">
            </head><body><meta property="og:site_name" content="after the head: ignored"></body></html>
            """)
        XCTAssertEqual(page.title, "Release notes & more — v2 🚀")
        XCTAssertEqual(page.description, "Single \"quoted\"")
        XCTAssertEqual(page.image, "/img/card.png")
        XCTAssertNil(page.siteName, "stops at the body")

        let plain = LinkPreviewParser.parse("<HTML><HEAD><TITLE>\n  Just   a\ttitle \n</TITLE><META NAME=DESCRIPTION CONTENT=\"d\"></HEAD>")
        XCTAssertEqual(plain.title, "Just a title")
        XCTAssertEqual(plain.description, "d")
        XCTAssertEqual(LinkPreviewParser.parse("<meta name=twitter:title content=T><meta name=twitter:image content=i.png>"),
                       .init(title: "T", description: nil, image: "i.png", siteName: nil))
    }

    func testHostilePagesGiveCleanShortText() {
        let hidden = LinkPreviewParser.parse("<!-- <meta property=\"og:title\" content=\"in a comment\"> --><title>Real</title>")
        XCTAssertEqual(hidden.title, "Real", "a comment's tags are not read")
        let long = LinkPreviewParser.parse("<meta property=og:title content=\"\(String(repeating: "é", count: 500))\">")
        XCTAssertEqual(long.title?.unicodeScalars.count, LinkPreviewParser.maxTitle)
        XCTAssertTrue(long.title!.hasSuffix("…"))
        let controls = LinkPreviewParser.parse("<title>a\u{1}b\u{7}c&#0;d&#xD800;e&bogus;</title>")
        XCTAssertEqual(controls.title, "a b c&#0;d&#xD800;e&bogus;", "control characters become spaces; invalid entities stay as written")
        XCTAssertEqual(LinkPreviewParser.parse("<title>unterminated").title, "unterminated")
        XCTAssertEqual(LinkPreviewParser.parse("<meta <<< content=\"x\" property=\"og:title\" / >").title, "x")
        XCTAssertEqual(LinkPreviewParser.parse("<title>   </title><meta name=description content=\"\">"),
                       .init(title: nil, description: nil, image: nil, siteName: nil))
        for junk in ["<", "<meta", "<meta name=", "<meta name=\"", "<!--", "<title", "&", "&#", "<meta =>", "<meta content>"] {
            _ = LinkPreviewParser.parse(junk)  // must not trap or hang
        }
    }

    /// Half a megabyte of tags that never close, or of tags that do, is read in linear time (it
    /// was quadratic: minutes for a page of `<meta<meta<meta…`).
    func testHostilePagesAreReadInLinearTime() {
        for page in [String(repeating: "<meta", count: 100_000), String(repeating: "<title", count: 85_000),
                     "<title>t</title>" + String(repeating: "<title x", count: 60_000),
                     String(repeating: "<meta name=a content=b>", count: 22_000), String(repeating: "<!-- x -->", count: 50_000)] {
            let started = ContinuousClock.now
            _ = LinkPreviewParser.parse(page)
            XCTAssertLessThan(ContinuousClock.now - started, .seconds(3), "\(page.prefix(20))… (\(page.utf8.count) bytes)")
        }
    }
}

final class OutboundAddressPolicyTests: XCTestCase {
    func testOnlyPublicAddressesArePublic() {
        func v4(_ text: String) -> [UInt8] { text.split(separator: ".").map { UInt8($0)! } }
        for address in ["8.8.8.8", "1.1.1.1", "93.184.216.34", "100.63.255.255", "172.32.0.1", "192.169.0.1", "223.255.255.255"] {
            XCTAssertTrue(OutboundAddressPolicy.isPublic(v4(address)), address)
        }
        for address in ["0.0.0.0", "10.1.2.3", "127.0.0.1", "127.255.255.254", "100.64.0.1", "169.254.169.254", "172.16.0.1", "172.31.255.255",
                        "192.168.1.1", "192.0.2.1", "198.18.0.1", "198.51.100.7", "203.0.113.9", "224.0.0.1", "255.255.255.255"] {
            XCTAssertFalse(OutboundAddressPolicy.isPublic(v4(address)), address)
        }
        func v6(_ text: String) -> [UInt8] {
            var address = in6_addr()
            XCTAssertEqual(inet_pton(AF_INET6, text, &address), 1, text)
            return withUnsafeBytes(of: address) { Array($0) }
        }
        for address in ["2606:4700:4700::1111", "2a00:1450:4009:81f::200e", "64:ff9b::808:808", "::ffff:8.8.8.8", "2002:808:808::1"] {
            XCTAssertTrue(OutboundAddressPolicy.isPublic(v6(address)), address)
        }
        for address in ["::", "::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1", "64:ff9b::a00:1", "2002:c0a8:101::1",
                        "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1", "ff02::1", "2001:db8::1", "100::1"] {
            XCTAssertFalse(OutboundAddressPolicy.isPublic(v6(address)), address)
        }
        XCTAssertFalse(OutboundAddressPolicy.isPublic([1, 2, 3]), "not an address")
        for address in ["::ffff:0:127.0.0.1", "64:ff9b:1::a00:1", "2001:0:4136:e378::1"] {
            XCTAssertFalse(OutboundAddressPolicy.isPublic(v6(address)), address)
        }
        // Outside production private addresses are allowed, link-local (cloud metadata) never.
        XCTAssertTrue(OutboundAddressPolicy.isLinkLocal(v4("169.254.169.254")))
        XCTAssertTrue(OutboundAddressPolicy.isLinkLocal(v6("fe80::1")))
        XCTAssertTrue(OutboundAddressPolicy.isLinkLocal(v6("::ffff:169.254.169.254")))
        XCTAssertFalse(OutboundAddressPolicy.isLinkLocal(v4("127.0.0.1")))
        XCTAssertEqual(OutboundAddressPolicy.text(of: v4("10.0.0.5")), "10.0.0.5")
    }

    func testShapesAndPortsInProduction() throws {
        let production = OutboundAddressPolicy(allowPrivate: false)
        XCTAssertNoThrow(try production.checkShape("https://example.com/a?b=c#d"))
        XCTAssertNoThrow(try production.checkShape("http://example.com:80/"))
        XCTAssertNoThrow(try production.checkShape("https://example.com:443/"))
        for (raw, expected) in [("ftp://example.com/", "invalid"), ("javascript:alert(1)", "invalid"), ("//example.com", "invalid"),
                                ("https://user:pw@example.com/", "invalid"), ("https://example.com:8443/", "notAllowed"),
                                ("http://example.com:443/", "notAllowed"), ("https://" + String(repeating: "a", count: 2050), "invalid")] {
            XCTAssertThrowsError(try production.checkShape(raw), raw) { error in
                switch error as? OutboundAddressPolicy.Refusal {
                case .invalid: XCTAssertEqual(expected, "invalid", raw)
                case .notAllowed: XCTAssertEqual(expected, "notAllowed", raw)
                case nil: XCTFail("\(raw): \(error)")
                }
            }
        }
        XCTAssertNoThrow(try OutboundAddressPolicy(allowPrivate: true).checkShape("http://127.0.0.1:8080/"), "development: any port")
    }
}

/// The route in production: every private target refused before any request is made.
final class LinkPreviewRouteTests: ChatrTestCase {
    override func adjust(_ config: inout AppConfig) { config.mode = .production }

    func testPrivateTargetsAreRefusedInProduction() async throws {
        let ann = try await makeUser("ann")
        let unauthenticated = try await send(.GET, "/api/link-preview?url=https%3A%2F%2Fexample.com%2F")
        XCTAssertEqual(unauthenticated.status, .unauthorized)
        for target in ["http://127.0.0.1/", "http://localhost/", "http://localhost./admin", "http://127.1/", "http://2130706433/", "http://0x7f.1/",
                       "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/", "http://0.0.0.0/"] {
            let encoded = target.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let reply = try await send(.GET, "/api/link-preview?url=\(encoded)", token: ann.token)
            XCTAssertEqual(reply.status, .forbidden, "\(target): \(reply.text)")
            XCTAssertEqual(reply.json["code"], "url_not_allowed", target)
        }
        let missing = try await send(.GET, "/api/link-preview", token: ann.token)
        XCTAssertEqual(missing.status, .badRequest)
        let scheme = try await send(.GET, "/api/link-preview?url=file%3A%2F%2F%2Fetc%2Fpasswd", token: ann.token)
        XCTAssertEqual(scheme.status, .badRequest)
        XCTAssertEqual(scheme.json["code"], "invalid_url")
        let forged = try await send(.GET, "/api/link-preview/image?url=http%3A%2F%2F127.0.0.1%2Fa.png&sig=AAAA")
        XCTAssertEqual(forged.status, .forbidden, "a picture no preview named")
    }
}
