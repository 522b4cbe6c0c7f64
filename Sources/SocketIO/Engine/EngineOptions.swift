/// Engine.IO server settings. The defaults are those of the reference server.
public struct EngineOptions: Sendable {
    /// How often the server pings (ms).
    public var pingInterval: Int = 25_000
    /// How long the server waits for the pong before closing (ms).
    public var pingTimeout: Int = 20_000
    /// Largest HTTP body or WebSocket message accepted (bytes).
    public var maxPayload: Int = 1_000_000
    /// How long a WebSocket probe may take to finish the upgrade (ms).
    public var upgradeTimeout: Int = 10_000
    public var allowPolling = true
    public var allowWebSocket = true
    /// Origins whose browsers may poll with credentials: the engine adds the CORS headers and
    /// answers preflights. `nil` leaves CORS to the web framework; `["*"]` allows any origin.
    public var corsOrigins: [String]? = nil
    /// Most sessions open at once from one client address (`EngineRequest.remoteAddress`);
    /// a handshake beyond it answers 429. `nil`: no limit. Requests without an address are not
    /// counted.
    public var maxSessionsPerAddress: Int? = nil

    public init() {}
}

/// The errors of the Engine.IO HTTP protocol: 400 (403 for `forbidden`) with `{code, message}`.
public enum EngineHTTPError: Int, Error, Sendable {
    case unknownTransport = 0
    case unknownSession = 1
    case badHandshakeMethod = 2
    case badRequest = 3
    case forbidden = 4
    case unsupportedVersion = 5
    /// Not one of the protocol's codes: sent as 4 (forbidden) with HTTP 429.
    case tooManySessions = 100

    public var message: String {
        switch self {
        case .unknownTransport: return "Transport unknown"
        case .unknownSession: return "Session ID unknown"
        case .badHandshakeMethod: return "Bad handshake method"
        case .badRequest: return "Bad request"
        case .forbidden: return "Forbidden"
        case .unsupportedVersion: return "Unsupported protocol version"
        case .tooManySessions: return "Too many connections from this address"
        }
    }

    public var status: Int {
        switch self {
        case .forbidden: return 403
        case .tooManySessions: return 429
        default: return 400
        }
    }

    /// The code on the wire: the protocol's own, or 4 (forbidden) for what it has no code for.
    public var code: Int { self == .tooManySessions ? EngineHTTPError.forbidden.rawValue : rawValue }

    public var body: String { #"{"code":\#(code),"message":"\#(message)"}"# }
}
