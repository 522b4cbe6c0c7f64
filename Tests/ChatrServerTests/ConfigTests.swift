import XCTest
@testable import ChatrServer

final class ConfigTests: XCTestCase {
    let scratch = NSTemporaryDirectory() + "chatr-config-" + UUID().uuidString

    override func tearDown() { try? FileManager.default.removeItem(atPath: scratch) }

    func testNoVariablesGivesAWorkingDevelopmentSetup() throws {
        let config = try AppConfig.fromEnvironment([:], dataDirectory: scratch)
        XCTAssertEqual(config.mode, .development)
        XCTAssertEqual(config.port, 3001)
        XCTAssertEqual(config.host, "127.0.0.1")
        XCTAssertEqual(config.database, .sqliteFile(scratch + "/chatr.sqlite"))
        XCTAssertEqual(config.uploadsDirectory, "./uploads")
        XCTAssertNil(config.mailtrap)
        XCTAssertNil(config.smsWorks)
        XCTAssertEqual(config.jwtLifetime, 7 * 86_400)
        XCTAssertEqual(config.backendURL, "http://localhost:3001")
        // The generated dev secret is kept, so tokens survive a restart.
        XCTAssertGreaterThanOrEqual(config.jwtSecret.utf8.count, 32)
        XCTAssertEqual(try AppConfig.fromEnvironment([:], dataDirectory: scratch).jwtSecret, config.jwtSecret)
    }

    func testLimitsAndTimeoutsAreConfigurable() throws {
        let defaults = try AppConfig.fromEnvironment([:], dataDirectory: scratch)
        XCTAssertEqual([defaults.rateLimits.authPerIP, defaults.rateLimits.loginPerAccount], [30, 10])
        XCTAssertEqual([defaults.connections.idleTimeout, defaults.connections.maxSocketsPerAddress], [60, 256])
        let set = try AppConfig.fromEnvironment([
            "AUTH_RATE_LIMIT_PER_MINUTE": "100", "LOGIN_ATTEMPTS_PER_ACCOUNT": "3", "HTTP_IDLE_TIMEOUT_SECONDS": "30",
            "MAX_CONNECTIONS_PER_IP": "10", "SOCKET_PING_INTERVAL_MS": "1000", "SOCKET_PING_TIMEOUT_MS": "500", "SOCKET_CONNECT_TIMEOUT_MS": "2000",
        ], dataDirectory: scratch)
        XCTAssertEqual([set.rateLimits.authPerIP, set.rateLimits.loginPerAccount], [100, 3])
        XCTAssertEqual([set.connections.idleTimeout, set.connections.maxSocketsPerAddress, set.connections.pingInterval,
                        set.connections.pingTimeout, set.connections.connectTimeout], [30, 10, 1000, 500, 2000])
        XCTAssertThrowsError(try AppConfig.fromEnvironment(["AUTH_RATE_LIMIT_PER_MINUTE": "0"], dataDirectory: scratch))
        // Polling requests are held for a ping interval with nothing sent: the idle timeout must be longer.
        XCTAssertThrowsError(try AppConfig.fromEnvironment(["HTTP_IDLE_TIMEOUT_SECONDS": "20"], dataDirectory: scratch))
    }

    func testProductionRefusesAMissingOrShortSecret() {
        XCTAssertThrowsError(try AppConfig.fromEnvironment(["CHATR_ENV": "production"], dataDirectory: scratch)) { error in
            XCTAssertTrue("\(error)".contains("JWT_SECRET is required"), "\(error)")
        }
        XCTAssertThrowsError(try AppConfig.fromEnvironment(["CHATR_ENV": "production", "JWT_SECRET": "short"], dataDirectory: scratch)) { error in
            XCTAssertTrue("\(error)".contains("at least 32 bytes"), "\(error)")
        }
        let secret = String(repeating: "k", count: 32)
        XCTAssertEqual(try AppConfig.fromEnvironment(["CHATR_ENV": "production", "JWT_SECRET": secret], dataDirectory: scratch).jwtSecret, secret)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/jwt-secret"), "production never writes a dev secret")
    }

    func testDatabaseURLSelectsTheDriver() throws {
        XCTAssertEqual(try AppConfig.parseDatabaseURL("postgres://u:p@localhost:5432/chatr", dataDirectory: "."), .postgres("postgres://u:p@localhost:5432/chatr"))
        XCTAssertEqual(try AppConfig.parseDatabaseURL("postgresql://localhost/chatr", dataDirectory: "."), .postgres("postgresql://localhost/chatr"))
        XCTAssertEqual(try AppConfig.parseDatabaseURL("sqlite::memory:", dataDirectory: "."), .sqliteMemory)
        XCTAssertEqual(try AppConfig.parseDatabaseURL("sqlite:/var/lib/chatr.db", dataDirectory: "."), .sqliteFile("/var/lib/chatr.db"))
        XCTAssertThrowsError(try AppConfig.parseDatabaseURL("mysql://localhost/chatr", dataDirectory: "."))
    }

    func testEverySettingIsRead() throws {
        let config = try AppConfig.fromEnvironment([
            "PORT": "4000", "HOST": "0.0.0.0", "CHATR_ENV": "testing", "JWT_SECRET": "x", "JWT_EXPIRES_IN": "12h",
            "FRONTEND_URL": "https://a.example, https://b.example", "BACKEND_URL": "https://api.example/",
            "UPLOADS_DIR": "/srv/uploads", "MAX_UPLOAD_BYTES": "2048", "PRODUCT_NAME": "Natter",
            "MAILTRAP_API_KEY": "mt-key", "MAILTRAP_API_URL": "http://127.0.0.1:9/mail", "MAIL_FROM_ADDRESS": "hi@natter.example",
            "SMS_WORKS_JWT": "sms-token", "SMS_WORKS_API_URL": "http://127.0.0.1:9/sms", "SMS_WORKS_SENDER": "Natter",
            "SWAGGER_USER": "docs", "SWAGGER_PASS": "pass",
        ], dataDirectory: scratch)
        XCTAssertEqual(config.port, 4000)
        XCTAssertEqual(config.host, "0.0.0.0")
        XCTAssertEqual(config.mode, .testing)
        XCTAssertEqual(config.jwtLifetime, 12 * 3600)
        XCTAssertEqual(config.frontendOrigins, ["https://a.example", "https://b.example"])
        XCTAssertEqual(config.backendURL, "https://api.example")
        XCTAssertEqual(config.uploadsDirectory, "/srv/uploads")
        XCTAssertEqual(config.maxUploadBytes, 2048)
        XCTAssertEqual(config.productName, "Natter")
        XCTAssertEqual(config.mailtrap?.apiURL, "http://127.0.0.1:9/mail")
        XCTAssertEqual(config.mailtrap?.fromAddress, "hi@natter.example")
        XCTAssertEqual(config.smsWorks?.token, "sms-token")
        XCTAssertEqual(config.smsWorks?.sender, "Natter")
        XCTAssertEqual(config.swaggerCredentials?.user, "docs")
    }

    func testBadValuesAreClearErrors() {
        XCTAssertThrowsError(try AppConfig.fromEnvironment(["PORT": "eighty", "JWT_SECRET": "x"], dataDirectory: scratch))
        XCTAssertThrowsError(try AppConfig.fromEnvironment(["CHATR_ENV": "staging", "JWT_SECRET": "x"], dataDirectory: scratch))
        XCTAssertThrowsError(try AppConfig.fromEnvironment(["JWT_EXPIRES_IN": "soon", "JWT_SECRET": "x"], dataDirectory: scratch))
    }

    func testDurations() {
        XCTAssertEqual(AppConfig.parseDuration("7d"), 604_800)
        XCTAssertEqual(AppConfig.parseDuration("30m"), 1800)
        XCTAssertEqual(AppConfig.parseDuration("45s"), 45)
        XCTAssertEqual(AppConfig.parseDuration("3600"), 3600)
        XCTAssertNil(AppConfig.parseDuration("-1d"))
        XCTAssertNil(AppConfig.parseDuration("d"))
    }

    func testClusterNeedsPostgres() throws {
        XCTAssertThrowsError(try AppConfig.fromEnvironment(["CLUSTER": "postgres"], dataDirectory: scratch)) { error in
            XCTAssertTrue("\(error)".contains("CLUSTER=postgres needs DATABASE_URL=postgres"), "\(error)")
        }
        XCTAssertThrowsError(try AppConfig.fromEnvironment(["CLUSTER": "redis", "DATABASE_URL": "postgres://localhost/c"], dataDirectory: scratch))
        XCTAssertTrue(try AppConfig.fromEnvironment(["CLUSTER": "postgres", "DATABASE_URL": "postgres://localhost/c"], dataDirectory: scratch).cluster)
        XCTAssertFalse(try AppConfig.fromEnvironment([:], dataDirectory: scratch).cluster)
    }

    /// Started from any folder, the binary finds the web client; a wrong PUBLIC_DIR is an error.
    func testTheWebClientIsFoundWhereverTheBinaryStarts() throws {
        let elsewhere = scratch + "/elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        // Neither the current folder nor the executable's has it: the source tree of the build does.
        let fromElsewhere = PublicDirectory.locate(env: [:], executable: "/nonexistent/bin/chatr", currentDirectory: elsewhere)
        XCTAssertEqual(fromElsewhere.found?.path, PublicDirectory.sourceTreePublic)
        XCTAssertTrue(FileManager.default.fileExists(atPath: PublicDirectory.sourceTreePublic + "/index.html"))

        // An installed layout: /prefix/bin/chatr and /prefix/share/chatr/Public.
        let installed = scratch + "/prefix/share/chatr/Public"
        try FileManager.default.createDirectory(atPath: installed, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: installed + "/index.html", contents: Data("<html>".utf8))
        let fromInstall = PublicDirectory.locate(env: [:], executable: scratch + "/prefix/bin/chatr", currentDirectory: elsewhere,
                                                 sourceTree: "/nonexistent")
        XCTAssertEqual(fromInstall.found, .init(path: installed, source: "the installed share folder"))

        // Nothing anywhere: nil, and the places tried are listed for the message.
        let nowhere = PublicDirectory.locate(env: [:], executable: "/nonexistent/bin/chatr", currentDirectory: elsewhere, sourceTree: "/nonexistent")
        XCTAssertNil(nowhere.found)
        XCTAssertEqual(nowhere.tried.count, 4)

        XCTAssertEqual(try AppConfig.fromEnvironment(["PUBLIC_DIR": installed], dataDirectory: scratch).publicDirectory, installed)
        XCTAssertThrowsError(try AppConfig.fromEnvironment(["PUBLIC_DIR": elsewhere], dataDirectory: scratch)) { error in
            XCTAssertTrue("\(error)".contains("has no index.html"), "\(error)")
        }
    }
}
