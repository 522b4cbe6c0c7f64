import Vapor

extension Request {
    /// The client's address: the TCP peer, or — when the peer is a trusted proxy
    /// (`TRUSTED_PROXIES`, e.g. the nginx of `deploy/`) — the address that proxy reports in
    /// `X-Real-IP` or as the last hop of `X-Forwarded-For`. Rate limits and the loopback-only dev
    /// routes key on it, so behind nginx every client is not 127.0.0.1.
    var clientAddress: String {
        let peer = remoteAddress?.ipAddress ?? "unknown"
        guard chatr.config.trustedProxies.contains(peer) else { return peer }
        if let real = headers.first(name: "X-Real-IP")?.trimmingCharacters(in: .whitespaces), !real.isEmpty { return real }
        if let last = headers.first(name: .xForwardedFor)?.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty {
            return last
        }
        return peer
    }

    /// No IP address at all is a Unix-domain socket or an in-process test client: local too.
    var clientIsLoopback: Bool {
        guard remoteAddress?.ipAddress != nil else { return true }
        let address = clientAddress
        return address == "::1" || address.hasPrefix("127.") || address == "::ffff:127.0.0.1"
    }
}
