import Foundation

/// Which push endpoints the server will POST to. A subscription's endpoint comes from the
/// browser, so from whoever holds a token: without a rule the server would send requests
/// wherever it is told (SSRF). Push services are https on public names (fcm.googleapis.com,
/// updates.push.services.mozilla.com, web.push.apple.com…), so production accepts only those
/// shapes; development and testing also accept http and local addresses, for a local push
/// service. A public name that resolves to a private address is not caught here (see
/// docs/DECISIONS.md, "Web Push").
enum PushEndpointPolicy {
    static let maxLength = 2048

    /// Why `endpoint` is refused, or nil.
    static func problem(with endpoint: String, allowLocal: Bool) -> String? {
        guard endpoint.utf8.count <= maxLength else { return "endpoint must be at most \(maxLength) characters" }
        guard let url = URLComponents(string: endpoint), let scheme = url.scheme?.lowercased(),
              let host = url.host?.lowercased(), !host.isEmpty else { return "endpoint must be an absolute URL" }
        guard url.user == nil, url.password == nil else { return "endpoint must not carry credentials" }
        if allowLocal { return scheme == "https" || scheme == "http" ? nil : "endpoint must be an http(s) URL" }
        guard scheme == "https" else { return "endpoint must be an https URL" }
        // `localhost.` is `localhost`: one trailing dot is the DNS root.
        let name = host.hasSuffix(".") ? String(host.dropLast()) : host
        // An address however written: IPv6, or IPv4 in any of the forms resolvers still accept
        // (`127.1`, `2130706433`, `0x7f.1`, octal) — by the URL standard's rule, a host whose
        // last label is a number is an IPv4 address.
        let last = name.split(separator: ".").last.map(String.init) ?? name
        let isIPLiteral = name.contains(":") || last.isEmpty || last.allSatisfy { $0.isNumber } || last.hasPrefix("0x")
        let localSuffixes = [".localhost", ".local", ".internal", ".lan", ".home.arpa"]
        guard !isIPLiteral, name.contains("."), name != "localhost", !localSuffixes.contains(where: name.hasSuffix) else {
            return "endpoint must be a push service on a public host name"
        }
        return nil
    }
}
