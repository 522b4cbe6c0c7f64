// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "chatr",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "chatr", targets: ["chatr"]),
        .executable(name: "socketio-echo", targets: ["socketio-echo"]),
        .executable(name: "chatr-bench", targets: ["chatr-bench"]),
        .library(name: "ChatrServer", targets: ["ChatrServer"]),
        .library(name: "SocketIO", targets: ["SocketIO"]),
        .library(name: "SocketIOVapor", targets: ["SocketIOVapor"]),
        .library(name: "SocketIOPostgres", targets: ["SocketIOPostgres"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/vapor/fluent.git", from: "4.13.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.14.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/vapor/websocket-kit.git", from: "2.16.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.24.0"),
    ],
    targets: [
        // A reusable Socket.IO v4 server: knows nothing about chat, Vapor or Fluent.
        .target(
            name: "SocketIO",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // Mounts SocketIO on a Vapor application.
        .target(
            name: "SocketIOVapor",
            dependencies: [
                .target(name: "SocketIO"),
                .product(name: "Vapor", package: "vapor"),
                .product(name: "WebSocketKit", package: "websocket-kit"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]
        ),
        // The cluster adapter: nodes sharing one PostgreSQL database (LISTEN/NOTIFY).
        .target(
            name: "SocketIOPostgres",
            dependencies: [
                .target(name: "SocketIO"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // Conformance fixture for protocol and interop tests.
        .executableTarget(
            name: "socketio-echo",
            dependencies: [
                .target(name: "SocketIO"),
                .target(name: "SocketIOVapor"),
                .product(name: "Vapor", package: "vapor"),
            ]
        ),
        // A Socket.IO v4 client (WebSocket) sharing the server's codecs: for benchmarks and tools.
        .target(
            name: "SocketIOClient",
            dependencies: [
                .target(name: "SocketIO"),
                .product(name: "WebSocketKit", package: "websocket-kit"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // The load generator (docs/PERFORMANCE.md).
        .executableTarget(
            name: "chatr-bench",
            dependencies: [
                .target(name: "SocketIOClient"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // A hand-driven Socket.IO client over a real WebSocket, for tests.
        .target(
            name: "SocketIOTestClient",
            dependencies: [
                .target(name: "SocketIO"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "WebSocketKit", package: "websocket-kit"),
            ]
        ),
        // Benchmarks of the SocketIO library (codec throughput, idle connections).
        .executableTarget(
            name: "socketio-bench",
            dependencies: [
                .target(name: "SocketIO"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "WebSocketKit", package: "websocket-kit"),
            ]
        ),
        .target(
            name: "ChatrServer",
            dependencies: [
                .target(name: "SocketIO"),
                .target(name: "SocketIOPostgres"),
                .target(name: "SocketIOVapor"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "chatr",
            dependencies: [.target(name: "ChatrServer")]
        ),
        .testTarget(
            name: "SocketIOTests",
            dependencies: [
                .target(name: "SocketIO"),
                .target(name: "SocketIOVapor"),
                .target(name: "SocketIOTestClient"),
                .target(name: "SocketIOClient"),
                .product(name: "XCTVapor", package: "vapor"),
            ]
        ),
        .testTarget(
            name: "SocketIOPostgresTests",
            dependencies: [
                .target(name: "SocketIOPostgres"),
                .target(name: "SocketIO"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ChatrServerTests",
            dependencies: [
                .target(name: "ChatrServer"),
                .target(name: "SocketIOTestClient"),
                .product(name: "XCTVapor", package: "vapor"),
            ]
        ),
    ]
)

// libFuzzer targets (Fuzz/, run by scripts/fuzz.sh): only when CHATR_FUZZ is set, because they
// link only with `-sanitize=fuzzer` (libFuzzer provides `main`).
if Context.environment["CHATR_FUZZ"] != nil {
    let fuzzTargets: [(name: String, dependency: Target.Dependency)] = [
        ("FuzzEngineCodec", .target(name: "SocketIO")),
        ("FuzzSocketCodec", .target(name: "SocketIO")),
        ("FuzzJSONCodec", .target(name: "SocketIO")),
        ("FuzzFileSniffer", .target(name: "ChatrServer")),
        ("FuzzMultipart", .target(name: "ChatrServer")),
    ]
    package.targets.append(.target(name: "FuzzSupport", path: "Fuzz/FuzzSupport"))
    for (name, dependency) in fuzzTargets {
        package.targets.append(.executableTarget(name: name, dependencies: [dependency, "FuzzSupport", .product(name: "NIOCore", package: "swift-nio")],
                                                 path: "Fuzz/\(name)"))
        package.products.append(.executable(name: name, targets: [name]))
    }
}
