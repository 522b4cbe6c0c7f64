import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import SQLKit
import Vapor

/// The one composition root: configuration → database → services → routes.
/// `chatr` calls it with the environment's configuration; tests call it with their own.
public func configure(_ app: Application, config: AppConfig) async throws {
    app.http.server.configuration.hostname = config.host
    app.http.server.configuration.port = config.port
    app.http.server.configuration.idleTimeout = .seconds(Int64(config.connections.idleTimeout))
    app.routes.defaultMaxBodySize = "1mb"
    configureJSON()
    // Before the first request: Vapor reports HTTP metrics to the process's metrics system.
    _ = ChatrMetrics.shared

    try configureDatabase(app, config.database)
    app.migrations.add(ChatrMigrations.all)
    app.asyncCommands.use(MigrateNowCommand(), as: "migrate")
    app.asyncCommands.use(BenchSeedCommand(), as: "bench-seed")
    app.asyncCommands.use(UserCommands(), as: "user")
    app.asyncCommands.use(BackupCommand(), as: "backup")
    app.asyncCommands.use(VapidKeysCommand(), as: "vapid-keys")

    app.chatr = await makeServices(app, config: config)
    app.lifecycle.use(app.chatr.typing)
    app.lifecycle.use(app.chatr.linkPreviews)
    if let push = app.chatr.push { app.lifecycle.use(push) } else {
        app.logger.warning("Web Push is off: set VAPID_PRIVATE_KEY, VAPID_PUBLIC_KEY and VAPID_SUBJECT to turn it on (`chatr vapid-keys` makes a pair; in cluster mode every node needs the same), docs/DEPLOYMENT.md")
    }

    app.middleware = Middlewares()
    app.middleware.use(ResponseHeadersMiddleware(fileOrigins: fileOrigins(config)))
    app.middleware.use(JSONErrorMiddleware())
    app.middleware.use(MethodGuardMiddleware())
    app.middleware.use(NULURLMiddleware())
    app.middleware.use(CORSMiddleware(configuration: .init(
        allowedOrigin: .any(config.frontendOrigins),
        allowedMethods: [.GET, .POST, .PUT, .PATCH, .DELETE, .OPTIONS],
        allowedHeaders: [.accept, .authorization, .contentType, .origin, .xRequestedWith],
        allowCredentials: true)))
    if let publicDirectory = config.publicDirectory {
        app.logger.info("web client: \(publicDirectory)")
        app.middleware.use(PublicFilesMiddleware(publicDirectory: publicDirectory))
    } else {
        app.logger.critical("web client not found: no index.html in ./Public, beside the executable, in ../share/chatr/Public or in the source tree; set PUBLIC_DIR to the Public/ folder of the build. Serving the API only.")
    }

    try routes(app, config: config)

    if config.autoMigrate {
        try await migrate(app, config.database)
    }
    try await tuneSQLite(app, config.database)
    // Lifecycle handlers shut down in reverse order: the sockets first (their disconnect handlers
    // still write), then the writer finishes its last batch, then the checkpointer stops.
    app.lifecycle.use(app.chatr.messageStorage.writer)
    // The cluster link stops after the sockets: their disconnect handlers still tell the others.
    var cluster: ChatrCluster?
    if config.cluster, case .postgres(let url) = config.database {
        cluster = try await ChatrCluster.start(app, databaseURL: url)
        app.lifecycle.use(cluster!)
        app.chatrCluster = cluster
    }
    let server = ChatrRealtime.mount(on: app)  // kept in app.socketIOServer
    app.lifecycle.use(SessionSweeper.task())
    app.lifecycle.use(ChangePruner.task())
    try await cluster?.attach(to: server.sockets, app: app)
}

/// Pending migrations, one node at a time: on PostgreSQL several nodes may start at once, so a
/// session-level advisory lock is held around the migrations (the others wait, then find
/// nothing left to do).
private func migrate(_ app: Application, _ choice: AppConfig.DatabaseChoice) async throws {
    guard choice.isPostgres, let sql = app.db as? any SQLDatabase else {
        try await app.autoMigrate()
        return
    }
    try await sql.withSession { session in
        try await session.raw("SELECT pg_advisory_lock(\(literal: migrationLock))").run()
        do {
            try await app.autoMigrate()
        } catch {
            try? await session.raw("SELECT pg_advisory_unlock(\(literal: migrationLock))").run()
            throw error
        }
        try await session.raw("SELECT pg_advisory_unlock(\(literal: migrationLock))").run()
    }
}

private let migrationLock = 4_242_001

/// WAL lets readers (history, lists) run while a message is written, and `synchronous=NORMAL`
/// syncs at checkpoints instead of every commit — still safe against crashes of the process
/// (WAL is durable up to the last checkpoint on power loss). `synchronous` is per connection,
/// so it is set on the connection of every event loop's pool; pooled connections live on.
/// Checkpoints move off the write path to `SQLiteCheckpointer`.
private func tuneSQLite(_ app: Application, _ choice: AppConfig.DatabaseChoice) async throws {
    guard case .sqliteFile = choice else { return }
    for loop in app.eventLoopGroup.makeIterator() {
        let db = app.databases.database(.sqlite, logger: app.logger, on: loop)! as! any SQLDatabase
        try await db.raw("PRAGMA journal_mode=WAL").run()
        try await db.raw("PRAGMA synchronous=NORMAL").run()
        try await db.raw("PRAGMA wal_autocheckpoint=0").run()
        // 32 MB of page cache instead of 2 MB: the indexes a send touches stay in memory.
        try await db.raw("PRAGMA cache_size=-32768").run()
    }
    if let checkpointer = app.chatr.messageStorage.writer.checkpointer { app.lifecycle.use(checkpointer) }
}

/// PostgreSQL connections per event loop (two loops on this 2-core machine). More do not help
/// here: at 2,000 sends/s the machine is saturated (PostgreSQL ~1 core) and 12 a loop made the
/// wait for a connection (`chatr_db_pool_wait_seconds`) longer, not shorter (docs/PERFORMANCE.md).
private let postgresPoolSize = 4

private func configureDatabase(_ app: Application, _ choice: AppConfig.DatabaseChoice) throws {
    switch choice {
    case .sqliteMemory:
        app.databases.use(.sqlite(.memory), as: .sqlite)
    case .sqliteFile(let path):
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        app.databases.use(.sqlite(.file(path)), as: .sqlite)
    case .postgres(let url):
        var postgres = try SQLPostgresConfiguration(url: url)
        postgres.coreConfiguration.options.connectTimeout = .seconds(5)
        app.databases.use(.postgres(configuration: postgres, maxConnectionsPerEventLoop: postgresPoolSize), as: .psql)
    }
}

private func makeServices(_ app: Application, config: AppConfig) async -> ChatrServices {
    let clock = AppClock()
    let outbox = Outbox()
    let mailer: any Mailer = config.mailtrap.map { MailtrapMailer(config: $0, client: app.http.client.shared) }
        ?? DevMailer(outbox: outbox, logger: app.logger)
    let sms: any SMSSender = config.smsWorks.map { SMSWorksSender(config: $0, client: app.http.client.shared) }
        ?? DevSMSSender(outbox: outbox, logger: app.logger)
    return ChatrServices(
        config: config,
        clock: clock,
        outbox: outbox,
        tokens: await TokenService.make(secret: config.jwtSecret, lifetime: config.jwtLifetime, clock: clock),
        passwords: PasswordHasher(cost: config.bcryptCost, threadPool: app.threadPool),
        codes: VerificationCodes(secret: config.jwtSecret, clock: clock),
        delivery: CodeDelivery(mailer: mailer, sms: sms, productName: config.productName,
                               frontendURL: config.frontendOrigins.first ?? config.backendURL, logger: app.logger),
        files: makeFileStorage(app, config: config, clock: clock),
        rateLimiter: RateLimiter(clock: clock),
        loginBackoff: FailureBackoff(clock: clock, free: config.rateLimits.loginFailuresBeforeBackoff,
                                     cap: config.rateLimits.loginBackoffCap, forgetAfter: config.rateLimits.loginWindow),
        presence: PresenceRegistry(),
        audioProbe: AudioProbe(executable: AudioProbe.find(), threadPool: app.threadPool),
        messageStorage: makeMessageStorage(config.database),
        directConversations: DirectConversationCache(),
        groupMembers: GroupMembersCache(),
        events: EventPublisher(),
        typing: TypingTracker(),
        syncCursors: SyncCursors(secret: config.jwtSecret),
        push: config.vapid.map { vapid in
            PushNotifier(identity: vapid, eventLoopGroup: app.eventLoopGroup, database: { [databases = app.databases, group = app.eventLoopGroup, logger = app.logger] in
                             databases.database(logger: logger, on: group.any()) },
                         productName: config.productName, allowLocalEndpoints: config.mode != .production, clock: clock, logger: app.logger)
        },
        linkPreviews: LinkPreviews(allowPrivate: config.mode != .production, secret: config.jwtSecret, backendURL: config.backendURL,
                                   clock: clock, eventLoopGroup: app.eventLoopGroup, logger: app.logger)
    )
}

private func makeMessageStorage(_ choice: AppConfig.DatabaseChoice) -> MessageStorage {
    switch choice {
    case .postgres: .postgres(MessageBatchWriter(storeBatch: PostgresMessageStore.store))
    case .sqliteMemory: .sqlite(MessageBatchWriter())
    case .sqliteFile(let path): .sqlite(MessageBatchWriter(checkpointer: SQLiteCheckpointer(path: path)))
    }
}

/// Where uploaded files are served from when not from this server (S3): the CSP allows them.
private func fileOrigins(_ config: AppConfig) -> [String] {
    guard let s3 = config.s3 else { return [] }
    let candidates = [s3.publicBaseURL, s3.endpoint, "https://\(s3.bucket).s3.\(s3.region).amazonaws.com", "https://s3.\(s3.region).amazonaws.com"]
    return candidates.compactMap { $0.flatMap(URL.init(string:)) }.compactMap { url in
        guard let scheme = url.scheme, let host = url.host else { return nil }
        return "\(scheme)://\(host)" + (url.port.map { ":\($0)" } ?? "")
    }
}

private func makeFileStorage(_ app: Application, config: AppConfig, clock: AppClock) -> any FileStorage {
    guard let s3 = config.s3 else { return LocalFileStorage(directory: config.uploadsDirectory, baseURL: config.backendURL) }
    return S3FileStorage(config: .init(bucket: s3.bucket, region: s3.region, accessKeyID: s3.accessKeyID, secretAccessKey: s3.secretAccessKey,
                                       endpoint: s3.endpoint, pathStyle: s3.pathStyle, publicBaseURL: s3.publicBaseURL),
                         client: app.http.client.shared, clock: clock)
}

private func routes(_ app: Application, config: AppConfig) throws {
    try app.register(collection: HealthController())
    try app.register(collection: ClientConfigController(config: config))
    try app.register(collection: MetricsController())
    try app.register(collection: OpenAPIController(document: OpenAPIDocument.build(serverURL: config.backendURL, productName: config.productName)))
    try app.register(collection: AuthController())
    try app.register(collection: UserController())
    try app.register(collection: MessageController())
    try app.register(collection: GroupController())
    try app.register(collection: SyncController())
    try app.register(collection: LinkPreviewController())
    try app.register(collection: SearchController())
    try app.register(collection: PushController())
    try app.register(collection: UploadController(maxUploadBytes: config.maxUploadBytes))
    if let local = app.chatr.files as? LocalFileStorage {
        try app.register(collection: UploadsController(storage: local))
    }
    if config.exposesDevRoutes {
        try app.register(collection: DevController())
    }
}

/// Timestamps leave as ISO 8601 UTC with milliseconds (SPEC §2) and are read with or without them.
private func configureJSON() {
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .custom { date, encoder in
        var container = encoder.singleValueContainer()
        try container.encode(ISO8601.string(from: date))
    }
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .custom { decoder in
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = ISO8601.date(from: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Expected an ISO 8601 date")
        }
        return date
    }
    ContentConfiguration.global.use(encoder: encoder, for: .json)
    // JSON routes take JSON only. Vapor would otherwise decode multipart bodies with MultipartKit,
    // whose parser a crafted part header crashes (uploads use `MultipartStream`), and accept
    // form-encoded bodies the API does not describe: both are 415 now.
    ContentConfiguration.global.use(decoder: JSONOnlyDecoder(), for: .formData)
    ContentConfiguration.global.use(decoder: JSONOnlyDecoder(), for: .urlEncodedForm)
    ContentConfiguration.global.use(decoder: NULRefusingJSONDecoder(base: decoder), for: .json)
}

enum ISO8601 {
    static func string(from date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func date(from text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text))
            ?? (try? Date.ISO8601FormatStyle().parse(text))
    }
}

/// `chatr migrate`: apply pending migrations and exit, without Fluent's interactive prompt.
struct MigrateNowCommand: AsyncCommand {
    struct Signature: CommandSignature {}
    var help: String { "Applies pending database migrations and exits." }

    func run(using context: CommandContext, signature: Signature) async throws {
        try await context.application.autoMigrate()
        context.console.print("Migrations are up to date.")
    }
}

/// The body decoder for media types the JSON routes do not take: always 415.
private struct JSONOnlyDecoder: ContentDecoder {
    func decode<D: Decodable>(_ decodable: D.Type, from body: ByteBuffer, headers: HTTPHeaders) throws -> D {
        throw ChatrError(.unsupportedMediaType, "Send the body as application/json")
    }

    func decode<D: Decodable>(_ decodable: D.Type, from body: ByteBuffer, headers: HTTPHeaders, userInfo: [CodingUserInfoKey: any Sendable]) throws -> D {
        throw ChatrError(.unsupportedMediaType, "Send the body as application/json")
    }
}
