import Foundation

/// Everything Chatr reads from its environment (SPEC §1), parsed and validated once at start.
/// Tests build one directly with `AppConfig.testing(...)`.
public struct AppConfig: Sendable {
    public enum Mode: String, Sendable { case development, testing, production }

    public enum DatabaseChoice: Sendable, Equatable {
        case sqliteFile(String)
        case sqliteMemory
        case postgres(String)

        var isPostgres: Bool { if case .postgres = self { return true } else { return false } }
    }

    public var mode: Mode
    public var host: String
    public var port: Int
    public var database: DatabaseChoice
    public var jwtSecret: String
    public var jwtLifetime: TimeInterval
    public var frontendOrigins: [String]
    public var backendURL: String
    public var uploadsDirectory: String
    /// Set when `FILE_STORAGE=s3`.
    public var s3: S3Settings?
    public var maxUploadBytes: Int
    public var productName: String
    public var mailtrap: MailtrapConfig?
    public var smsWorks: SMSWorksConfig?
    public var swaggerCredentials: (user: String, password: String)?
    public var rateLimits: RateLimits
    /// bcrypt cost; production keeps Vapor's 12, tests lower it so the suite stays fast.
    public var bcryptCost: Int
    /// Apply pending migrations when the server starts (`swift run chatr` needs no setup).
    public var autoMigrate: Bool
    /// The web client's folder (`PUBLIC_DIR`, else found: see `PublicDirectory`); nil when none
    /// was found — the server then says so loudly at start and serves the API alone.
    public var publicDirectory: String?
    /// `CLUSTER=postgres`: this instance joins the others on the same PostgreSQL database (§8).
    public var cluster = false
    /// `TRUSTED_PROXIES`: peers (e.g. the local nginx) whose `X-Real-IP`/`X-Forwarded-For` give
    /// the client's address. None by default: a forwarded header from anyone else is ignored.
    public var trustedProxies: Set<String> = []
    /// `SYNC_RETENTION_DAYS` (default 30): how long the change feed (`GET /api/sync`) keeps a
    /// change; a client away longer reloads its conversations (410).
    public var syncRetention: Duration = .seconds(30 * 86_400)
    /// `RECOVERY_WINDOW_SECONDS` (default 120): how long a disconnected socket's
    /// state is kept for Socket.IO connection state recovery.
    public var recoveryWindow: Duration = .seconds(120)
    /// How long connections may stay idle or half-open, and how many one address may hold.
    public var connections = ConnectionLimits()
    /// Web Push's VAPID key and contact (`VapidIdentity`); nil in production without keys: no push.
    public var vapid: VapidIdentity?

    /// Timeouts that close connections which send nothing (bare TCP, a request head that never
    /// ends, a WebSocket that never sends CONNECT or stops answering pings) and a cap per client
    /// address, so half-open connections cannot pile up.
    public struct ConnectionLimits: Sendable {
        /// `HTTP_IDLE_TIMEOUT_SECONDS`: no byte either way for this long closes the TCP
        /// connection — including a WebSocket whose closing handshake is never answered.
        public var idleTimeout: Int = 60
        /// `MAX_CONNECTIONS_PER_IP`: Socket.IO connections (WebSocket or polling) open at once
        /// from one client address; more answer 429.
        public var maxSocketsPerAddress: Int = 256
        /// `SOCKET_PING_INTERVAL_MS`, `SOCKET_PING_TIMEOUT_MS`: Engine.IO heartbeats.
        public var pingInterval: Int = 25_000
        public var pingTimeout: Int = 20_000
        /// `SOCKET_CONNECT_TIMEOUT_MS`: an Engine.IO session that has not sent Socket.IO CONNECT
        /// by then is closed.
        public var connectTimeout: Int = 45_000
        public init() {}
    }

    public struct S3Settings: Sendable {
        public var bucket: String
        public var region: String
        public var accessKeyID: String
        public var secretAccessKey: String
        public var endpoint: String?
        public var pathStyle: Bool
        public var publicBaseURL: String?
    }

    public struct MailtrapConfig: Sendable {
        public var apiKey: String
        public var apiURL: String
        public var fromAddress: String
        public var fromName: String
    }

    public struct SMSWorksConfig: Sendable {
        public var token: String
        public var apiURL: String
        public var sender: String
    }

    public struct RateLimits: Sendable {
        /// Auth requests per IP per window.
        public var authPerIP: Int = 30
        public var authWindow: TimeInterval = 60
        /// Login attempts per account from one source (IP address) per window.
        public var loginPerAccount: Int = 10
        public var loginWindow: TimeInterval = 15 * 60
        /// Failed logins from one source, on any accounts, before each further one closes the
        /// source for twice as long as the last (1 s, 2 s, 4 s … up to `loginBackoffCap`).
        public var loginFailuresBeforeBackoff: Int = 10
        public var loginBackoffCap: TimeInterval = 15 * 60
        /// Minimum gap between two codes sent to the same user.
        public var resendInterval: TimeInterval = 30
        public init() {}
    }

    public var exposesDevRoutes: Bool { mode != .production }
}

public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

extension AppConfig {
    /// Reads the process environment (Vapor has already merged `.env` into it).
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment,
                                       dataDirectory: String = "./data") throws -> AppConfig {
        func value(_ key: String) -> String? {
            guard let raw = env[key]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        func integer(_ key: String, default def: Int) throws -> Int {
            guard let raw = value(key) else { return def }
            guard let number = Int(raw), number > 0 else { throw ConfigError(description: "\(key) must be a positive integer, got '\(raw)'") }
            return number
        }

        guard let mode = Mode(rawValue: value("CHATR_ENV") ?? "development") else {
            throw ConfigError(description: "CHATR_ENV must be development, testing or production")
        }
        let port = try integer("PORT", default: 3001)
        let database = try parseDatabaseURL(value("DATABASE_URL"), dataDirectory: dataDirectory)

        let jwtSecret: String
        if let secret = value("JWT_SECRET") {
            guard secret.utf8.count >= 32 || mode != .production else {
                throw ConfigError(description: "JWT_SECRET must be at least 32 bytes in production")
            }
            jwtSecret = secret
        } else if mode == .production {
            throw ConfigError(description: "JWT_SECRET is required in production (at least 32 bytes)")
        } else {
            jwtSecret = try DevSecret.loadOrCreate(at: dataDirectory + "/jwt-secret")
        }

        guard let lifetime = parseDuration(value("JWT_EXPIRES_IN") ?? "7d") else {
            throw ConfigError(description: "JWT_EXPIRES_IN must look like 7d, 12h, 30m, 45s or a number of seconds")
        }

        var mailtrap: MailtrapConfig?
        if let key = value("MAILTRAP_API_KEY") {
            mailtrap = MailtrapConfig(apiKey: key,
                                      apiURL: value("MAILTRAP_API_URL") ?? "https://send.api.mailtrap.io",
                                      fromAddress: value("MAIL_FROM_ADDRESS") ?? "no-reply@chatr.local",
                                      fromName: value("MAIL_FROM_NAME") ?? value("PRODUCT_NAME") ?? "Chatr")
        }
        var sms: SMSWorksConfig?
        if let token = value("SMS_WORKS_JWT") {
            sms = SMSWorksConfig(token: token,
                                 apiURL: value("SMS_WORKS_API_URL") ?? "https://api.thesmsworks.co.uk/v1",
                                 sender: value("SMS_WORKS_SENDER") ?? value("PRODUCT_NAME") ?? "Chatr")
        }
        var s3: S3Settings?
        switch value("FILE_STORAGE") ?? "local" {
        case "local": break
        case "s3":
            guard let bucket = value("S3_BUCKET"), let key = value("AWS_ACCESS_KEY_ID"), let secret = value("AWS_SECRET_ACCESS_KEY") else {
                throw ConfigError(description: "FILE_STORAGE=s3 needs S3_BUCKET, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
            }
            let endpoint = value("S3_ENDPOINT")
            s3 = S3Settings(bucket: bucket, region: value("AWS_REGION") ?? "us-east-1", accessKeyID: key, secretAccessKey: secret,
                            endpoint: endpoint, pathStyle: value("S3_FORCE_PATH_STYLE").map { $0 == "true" || $0 == "1" } ?? (endpoint != nil),
                            publicBaseURL: value("S3_PUBLIC_URL"))
        default:
            throw ConfigError(description: "FILE_STORAGE must be local or s3")
        }
        let publicDirectory = PublicDirectory.locate(env: env)
        if env["PUBLIC_DIR"].map({ !$0.trimmingCharacters(in: .whitespaces).isEmpty }) == true, publicDirectory.found == nil {
            throw ConfigError(description: "PUBLIC_DIR=\(publicDirectory.tried[0]) has no index.html; point it at the web client's folder (Public/ of the build)")
        }
        let cluster: Bool
        switch value("CLUSTER") ?? "off" {
        case "off", "false", "0": cluster = false
        case "postgres":
            guard database.isPostgres else {
                throw ConfigError(description: "CLUSTER=postgres needs DATABASE_URL=postgres://…: instances share their state through PostgreSQL, not SQLite")
            }
            cluster = true
        default:
            throw ConfigError(description: "CLUSTER must be off or postgres")
        }
        var swagger: (String, String)?
        if let user = value("SWAGGER_USER"), let pass = value("SWAGGER_PASS") { swagger = (user, pass) }

        var config = AppConfig(
            mode: mode,
            host: value("HOST") ?? "127.0.0.1",
            port: port,
            database: database,
            jwtSecret: jwtSecret,
            jwtLifetime: lifetime,
            frontendOrigins: (value("FRONTEND_URL") ?? "http://localhost:3001")
                .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty },
            backendURL: stripTrailingSlash(value("BACKEND_URL") ?? "http://localhost:\(port)"),
            uploadsDirectory: value("UPLOADS_DIR") ?? "./uploads",
            s3: s3,
            maxUploadBytes: try integer("MAX_UPLOAD_BYTES", default: 10_485_760),
            productName: value("PRODUCT_NAME") ?? "Chatr",
            mailtrap: mailtrap,
            smsWorks: sms,
            swaggerCredentials: swagger,
            rateLimits: RateLimits(),
            bcryptCost: 12,
            autoMigrate: true
        )
        config.publicDirectory = publicDirectory.found?.path
        config.cluster = cluster
        config.vapid = try VapidIdentity.fromEnvironment(value, mode: mode, cluster: cluster, dataDirectory: dataDirectory,
                                                         frontendOrigins: config.frontendOrigins)
        config.trustedProxies = Set((value("TRUSTED_PROXIES") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        config.syncRetention = .seconds(try integer("SYNC_RETENTION_DAYS", default: 30) * 86_400)
        config.recoveryWindow = .seconds(try integer("RECOVERY_WINDOW_SECONDS", default: 120))
        config.rateLimits.authPerIP = try integer("AUTH_RATE_LIMIT_PER_MINUTE", default: config.rateLimits.authPerIP)
        config.rateLimits.loginPerAccount = try integer("LOGIN_ATTEMPTS_PER_ACCOUNT", default: config.rateLimits.loginPerAccount)
        let defaults = ConnectionLimits()
        config.connections.idleTimeout = try integer("HTTP_IDLE_TIMEOUT_SECONDS", default: defaults.idleTimeout)
        config.connections.maxSocketsPerAddress = try integer("MAX_CONNECTIONS_PER_IP", default: defaults.maxSocketsPerAddress)
        config.connections.pingInterval = try integer("SOCKET_PING_INTERVAL_MS", default: defaults.pingInterval)
        config.connections.pingTimeout = try integer("SOCKET_PING_TIMEOUT_MS", default: defaults.pingTimeout)
        config.connections.connectTimeout = try integer("SOCKET_CONNECT_TIMEOUT_MS", default: defaults.connectTimeout)
        guard config.connections.idleTimeout * 1000 > config.connections.pingInterval else {
            // Polling requests are held open for up to a ping interval with nothing sent.
            throw ConfigError(description: "HTTP_IDLE_TIMEOUT_SECONDS must be longer than SOCKET_PING_INTERVAL_MS")
        }
        return config
    }

    /// A configuration for tests: in-memory SQLite (or `CHATR_TEST_DATABASE_URL`), a temporary
    /// uploads folder, dev mailer/SMS, a fixed secret and a cheap bcrypt cost.
    public static func testing(uploadsDirectory: String) -> AppConfig {
        let env = ProcessInfo.processInfo.environment
        let database: DatabaseChoice
        if let url = env["CHATR_TEST_DATABASE_URL"], !url.isEmpty, let parsed = try? parseDatabaseURL(url, dataDirectory: ".") {
            database = parsed
        } else {
            database = .sqliteMemory
        }
        var config = AppConfig(mode: .testing, host: "127.0.0.1", port: 0, database: database,
                         jwtSecret: "test-secret-that-is-long-enough-for-hs256",
                         jwtLifetime: 7 * 86_400, frontendOrigins: ["http://localhost:3001"],
                         backendURL: "http://localhost:3001", uploadsDirectory: uploadsDirectory, s3: nil,
                         maxUploadBytes: 10_485_760, productName: "Chatr", mailtrap: nil, smsWorks: nil,
                         swaggerCredentials: nil, rateLimits: RateLimits(), bcryptCost: 4, autoMigrate: true,
                         publicDirectory: PublicDirectory.locate().found?.path)
        config.vapid = .generated()
        return config
    }

    static func parseDatabaseURL(_ url: String?, dataDirectory: String) throws -> DatabaseChoice {
        guard let url else { return .sqliteFile(dataDirectory + "/chatr.sqlite") }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") { return .postgres(url) }
        if url == "sqlite::memory:" { return .sqliteMemory }
        if url.hasPrefix("sqlite:") {
            let path = String(url.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw ConfigError(description: "DATABASE_URL sqlite: needs a path") }
            return .sqliteFile(path.hasPrefix("//") ? String(path.dropFirst(2)) : path)
        }
        throw ConfigError(description: "DATABASE_URL must start with postgres://, postgresql:// or sqlite:")
    }

    /// `7d`, `12h`, `30m`, `45s` or bare seconds.
    static func parseDuration(_ text: String) -> TimeInterval? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        if let seconds = Double(text), seconds > 0 { return seconds }
        guard let unit = text.last.flatMap({ units[$0] }), let amount = Double(text.dropLast()), amount > 0 else { return nil }
        return amount * unit
    }

    private static func stripTrailingSlash(_ url: String) -> String {
        url.hasSuffix("/") ? String(url.dropLast()) : url
    }
}

/// The development JWT secret: generated once and kept in `./data/jwt-secret` so tokens survive
/// restarts without any setup.
enum DevSecret {
    static func loadOrCreate(at path: String) throws -> String {
        let fm = FileManager.default
        if let data = fm.contents(atPath: path), let text = String(data: data, encoding: .utf8),
           text.trimmingCharacters(in: .whitespacesAndNewlines).utf8.count >= 32 {
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let secret = RandomBytes.hex(count: 32)
            guard fm.createFile(atPath: path, contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw ConfigError(description: "cannot write \(path)")
            }
            return secret
        } catch {
            throw ConfigError(description: "cannot create the development JWT secret at \(path): \(error)")
        }
    }
}
