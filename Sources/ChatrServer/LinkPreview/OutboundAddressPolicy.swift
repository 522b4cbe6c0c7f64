import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where the server may fetch a URL that a user gave it (a link preview, and the preview's
/// image). Without a rule, anyone signed in could make the server read its own admin ports, the
/// database, or a cloud's metadata service (`169.254.169.254`) and show them the answer (SSRF).
/// So in production: http or https on the default ports, and a host whose every address is a
/// public one — checked after resolving the name, so `localhost.`, `127.1`, a name pointing at
/// `10.0.0.5` or `[::ffff:127.0.0.1]` are all refused. Development and tests also allow private
/// addresses and any port (the tests' pages are on 127.0.0.1) — but never link-local ones, where
/// clouds serve their instance metadata and credentials: a development server left facing a
/// network must not hand those out.
///
/// What this does not stop: a name that resolves to a public address here and to a private one
/// when the HTTP client resolves it again a moment later (DNS rebinding); pinning the address
/// would need a client that connects to an address but verifies TLS for the name. Noted in
/// docs/DECISIONS.md.
struct OutboundAddressPolicy: Sendable {
    var allowPrivate: Bool
    static let maxURLLength = 2048

    enum Refusal: Error, Equatable {
        /// Not a URL the server could fetch at all (400).
        case invalid(String)
        /// A URL it will not fetch (403).
        case notAllowed(String)
    }

    /// Checks the URL's shape, resolves its host and checks every address.
    func check(_ raw: String) async throws(Refusal) -> URL {
        let (url, rawHost) = try shape(raw)
        let host = rawHost.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let addresses = await Self.resolve(host)
        guard !addresses.isEmpty else { throw .notAllowed("\(host) does not resolve") }
        let allowPrivate = allowPrivate
        if let blocked = addresses.first(where: { allowPrivate ? Self.isLinkLocal($0) : !Self.isPublic($0) }) {
            throw .notAllowed("\(host) is a private address (\(Self.text(of: blocked)))")
        }
        return url
    }

    func checkShape(_ raw: String) throws(Refusal) -> URL {
        try shape(raw).url
    }

    /// The URL and its host, as URLComponents parsed it.
    private func shape(_ raw: String) throws(Refusal) -> (url: URL, host: String) {
        guard raw.utf8.count <= Self.maxURLLength else { throw .invalid("A link must be at most \(Self.maxURLLength) characters") }
        guard let components = URLComponents(string: raw), let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = components.host, !host.isEmpty, let url = components.url else {
            throw .invalid("Only http and https links have previews")
        }
        guard components.user == nil, components.password == nil else { throw .invalid("A link must not carry a user name or password") }
        if !allowPrivate, let port = components.port, port != (scheme == "https" ? 443 : 80) {
            throw .notAllowed("Links on other ports than \(scheme)'s own have no previews")
        }
        return (url, host)
    }

    /// 169.254.0.0/16 and fe80::/10 (and IPv4-mapped forms of the former).
    static func isLinkLocal(_ a: Address) -> Bool {
        if a.count == 4 { return a[0] == 169 && a[1] == 254 }
        guard a.count == 16 else { return true }
        if a[0..<10].allSatisfy({ $0 == 0 }) && a[10] == 0xFF && a[11] == 0xFF { return a[12] == 169 && a[13] == 254 }
        return a[0] == 0xFE && a[1] & 0xC0 == 0x80
    }

    static func text(of address: Address) -> String {
        if address.count == 4 { return address.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: address.count, by: 2).map { String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }

    // MARK: Addresses

    /// An address as bytes: 4 for IPv4, 16 for IPv6.
    typealias Address = [UInt8]

    /// Every address the system resolver gives for `host` (an IP literal gives itself).
    /// `getaddrinfo` blocks, so it runs off the caller's thread.
    static func resolve(_ host: String) async -> [Address] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: resolveBlocking(host)) }
        }
    }

    static func resolveBlocking(_ host: String) -> [Address] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(list) }
        var addresses: [Address] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let socketAddress = info.pointee.ai_addr {
                switch Int32(socketAddress.pointee.sa_family) {
                case AF_INET:
                    socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                        addresses.append(withUnsafeBytes(of: $0.pointee.sin_addr) { Array($0) })
                    }
                case AF_INET6:
                    socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                        addresses.append(withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) })
                    }
                default:
                    break
                }
            }
            cursor = info.pointee.ai_next
        }
        return addresses
    }

    /// Whether an address is on the public internet: not loopback, private (RFC 1918, unique
    /// local), link-local (the cloud metadata address), carrier-grade NAT, multicast, reserved or
    /// documentation ranges. IPv6 forms that embed an IPv4 address (mapped, NAT64, 6to4) are
    /// judged by that address.
    static func isPublic(_ address: Address) -> Bool {
        if address.count == 4 { return isPublicIPv4(address) }
        guard address.count == 16 else { return false }
        let a = address
        if a[0..<10].allSatisfy({ $0 == 0 }) && a[10] == 0xFF && a[11] == 0xFF { return isPublicIPv4(Array(a[12..<16])) }  // ::ffff:a.b.c.d
        if a[0..<12].allSatisfy({ $0 == 0 }) { return false }  // ::, ::1, and the old IPv4-compatible form
        if a[0] == 0x00, a[1] == 0x64, a[2] == 0xFF, a[3] == 0x9B, a[4..<12].allSatisfy({ $0 == 0 }) {
            return isPublicIPv4(Array(a[12..<16]))  // 64:ff9b::/96
        }
        if a[0..<8].allSatisfy({ $0 == 0 }) && a[8] == 0xFF && a[9] == 0xFF && a[10] == 0 && a[11] == 0 {
            return isPublicIPv4(Array(a[12..<16]))  // ::ffff:0:a.b.c.d (IPv4-translated)
        }
        if a[0] == 0x00, a[1] == 0x64, a[2] == 0xFF, a[3] == 0x9B, a[4] == 0x00, a[5] == 0x01 { return false }  // 64:ff9b:1::/48 local NAT64
        if a[0] == 0x20, a[1] == 0x01, a[2] == 0x00, a[3] == 0x00 { return false }  // 2001::/32 Teredo
        if a[0] == 0x20, a[1] == 0x02 { return isPublicIPv4(Array(a[2..<6])) }  // 2002::/16
        if a[0] & 0xFE == 0xFC { return false }  // fc00::/7 unique local
        if a[0] == 0xFE, a[1] & 0xC0 == 0x80 { return false }  // fe80::/10 link-local
        if a[0] == 0xFE, a[1] & 0xC0 == 0xC0 { return false }  // fec0::/10 old site-local
        if a[0] == 0xFF { return false }  // multicast
        if a[0] == 0x20, a[1] == 0x01, a[2] == 0x0D, a[3] == 0xB8 { return false }  // 2001:db8::/32 documentation
        if a[0] == 0x01, a[1] == 0x00, a[2..<8].allSatisfy({ $0 == 0 }) { return false }  // 100::/64 discard
        return true
    }

    static func isPublicIPv4(_ a: Address) -> Bool {
        switch (a[0], a[1], a[2]) {
        case (0, _, _), (10, _, _), (127, _, _): return false
        case (100, 64...127, _): return false  // carrier-grade NAT
        case (169, 254, _): return false  // link-local, cloud metadata
        case (172, 16...31, _): return false
        case (192, 0, 0), (192, 0, 2), (192, 88, 99), (192, 168, _): return false
        case (198, 18...19, _), (198, 51, 100), (203, 0, 113): return false  // benchmarking, documentation
        case (224..., _, _): return false  // multicast, reserved, broadcast
        default: return true
        }
    }
}
