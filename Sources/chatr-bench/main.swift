import ArgumentParser
import AsyncHTTPClient
import Foundation
import Histogram
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SocketIO
import SocketIOClient

/// Load generator for any server that speaks Chatr's events. Open loop: messages leave at
/// their scheduled times whatever the server does, and latency counts from the scheduled time,
/// so a slow server cannot hide its queueing (no coordinated omission).
@main
struct ChatrBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chatr-bench",
        abstract: "Measure Chatr's real-time throughput and latency.",
        subcommands: [Connections.self, Direct.self, Group.self, History.self, Search.self, Catchup.self])
}

struct Common: ParsableArguments {
    @Option(help: "Server URL; several, comma separated, spread the clients over instances of a cluster") var url = "http://127.0.0.1:3001"
    @Option(help: "userId<TAB>token lines (chatr bench-seed)") var tokens = "tokens.tsv"
    @Option(help: "Server process id(s), comma separated, to read RSS and CPU from /proc (summed)") var serverPid: String?

    /// The instances, in order; client `n` goes to `urls[n % urls.count]`.
    var urls: [String] { url.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
    @Option(help: "Write the results as JSON to this file") var json: String?

    /// A connected client whose `event`s carrying `bench:<due nanos>` are timed into `stats`.
    func connect(token: String, timing event: String?, into stats: Stats, on group: any EventLoopGroup, instance: Int = 0) async throws -> SocketIOClient {
        var options = SocketIOClient.Options(url: urls[instance % urls.count])
        options.auth = ["token": .string(token)]
        let client = SocketIOClient(options: options, group: group)
        if let event {
            client.on(event) { args in
                guard let content = args.first?["content"]?.stringValue, content.hasPrefix("bench:"),
                      let sent = UInt64(content.dropFirst(6)) else { return }
                stats.received(latencyNanos: DispatchTime.now().uptimeNanoseconds &- sent)
            }
        }
        try await client.connect()
        return client
    }

    /// Prints the table and, with `--json`, writes it.
    func publish(_ title: String, _ report: [(String, String)]) throws {
        print("chatr-bench \(title) — \(machineDescription())")
        for (name, value) in report { print("  \(name.padding(toLength: 38, withPad: " ", startingAt: 0)) \(value)") }
        if let json {
            try JSONSerialization.data(withJSONObject: Dictionary(uniqueKeysWithValues: report), options: [.prettyPrinted, .sortedKeys])
                .write(to: URL(fileURLWithPath: json))
        }
    }

    /// Every message stored and delivered, or the run fails (exit 1) — loss is never a detail.
    static func requireComplete(sent: Int, received: Int, stored: Int, expected: Int, stores: Int? = nil) throws {
        let wantStored = stores ?? sent
        guard received == expected, stored == wantStored else {
            print("FAILED: \(expected - received) deliveries missing, \(wantStored - stored) messages not stored")
            throw ExitCode.failure
        }
    }

    func loadTokens() throws -> [(id: String, token: String)] {
        try String(contentsOfFile: tokens, encoding: .utf8).split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "\t")
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        }
    }
}

struct Connections: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "N authenticated Socket.IO connections held open with heartbeats: connect rate, failures, server RSS.")
    @OptionGroup var common: Common
    @Option(help: "Connections (users from the tokens file are reused as extra devices)") var count = 1000
    @Option(help: "Seconds to hold them open after the last connects") var hold = 10.0
    @Option(help: "Connections opened at once") var concurrency = 100

    func run() async throws {
        let users = try common.loadTokens()
        guard !users.isEmpty else { throw ValidationError("no users in \(common.tokens)") }
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let stats = Stats()
        let resources = Resources(serverPID: common.serverPid)
        let rssBefore = common.serverPid.flatMap(Resources.rssMegabytes)
        let start = DispatchTime.now().uptimeNanoseconds
        var clients: [SocketIOClient] = []
        var failures = 0
        var next = 0
        while next < count {
            let batch = next..<min(count, next + concurrency)
            next = batch.upperBound
            let opened = await withTaskGroup(of: SocketIOClient?.self) { tasks in
                for index in batch {
                    tasks.addTask {
                        let began = DispatchTime.now().uptimeNanoseconds
                        guard let client = try? await common.connect(token: users[index % users.count].token, timing: nil, into: stats, on: loops, instance: index) else { return nil }
                        stats.received(latencyNanos: DispatchTime.now().uptimeNanoseconds &- began)
                        return client
                    }
                }
                var done: [SocketIOClient?] = []
                for await client in tasks { done.append(client) }
                return done
            }
            clients += opened.compactMap { $0 }
            failures += opened.filter { $0 == nil }.count
        }
        let connectSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        try await Task.sleep(for: .seconds(hold))
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let s = stats.snapshot
        let open = clients.filter(\.isConnected).count
        var report: [(String, String)] = [
            ("connections", "\(count) (\(users.count) users), \(concurrency) at a time"),
            ("connected / failed", "\(clients.count) / \(failures)"),
            ("connect rate", String(format: "%.0f per second (%.1f s)", Double(clients.count) / connectSeconds, connectSeconds)),
            ("connect time p50 / p99 / max", String(format: "%.2f / %.2f / %.2f ms", s.p50, s.p99, s.max)),
            ("still open after \(hold) s", "\(open)"),
        ]
        if let before = rssBefore { report.append(("server RSS before", String(format: "%.0f MB", before))) }
        try common.publish("connections", report + resources.report(elapsed: elapsed))
        for client in clients { client.disconnect() }
        try await Task.sleep(for: .milliseconds(500))
        try await loops.shutdownGracefully()
        if failures > 0 || open < count { print("FAILED: \(failures) could not connect, \(count - open) not open at the end"); throw ExitCode.failure }
    }
}

struct Direct: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "P sender/receiver pairs exchanging message:send at a fixed total rate.")
    @OptionGroup var common: Common
    @Option(help: "Sender/receiver pairs") var pairs = 50
    @Option(help: "Messages per second, all pairs together") var rate = 1000
    @Option(help: "Seconds of sending") var duration = 10.0

    func run() async throws {
        let users = try common.loadTokens()
        guard users.count >= 2 * pairs else { throw ValidationError("need \(2 * pairs) users in \(common.tokens), found \(users.count)") }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let stats = Stats()
        let run = String(UUID().uuidString.prefix(6))
        var senders: [SocketIOClient] = []
        var receivers: [SocketIOClient] = []
        // Message i leaves at start + i/rate; receivers time it from that moment.
        // With several instances, every pair's sender and receiver are on different ones.
        for pair in 0..<pairs {
            senders.append(try await common.connect(token: users[2 * pair].token, timing: nil, into: stats, on: group, instance: pair))
            receivers.append(try await common.connect(token: users[2 * pair + 1].token, timing: "message:received", into: stats, on: group,
                                                      instance: pair + 1))
        }
        let resources = Resources(serverPID: common.serverPid)
        let total = Int(Double(rate) * duration)
        let loop = OpenLoop(rate: rate)
        let start = loop.start
        await loop.run(count: total) { index, due in
            let pair = index % pairs
            let payload: SocketValue = ["recipientId": .string(users[2 * pair + 1].id), "content": .string("bench:\(due)"),
                                        "clientMessageId": .string("bench-\(run)-\(index)")]
            stats.sent()
            let sender = senders[pair]
            Task {
                let ack = try? await sender.emitWithAck("message:send", [payload], timeout: .seconds(30))
                stats.acked(ok: ack?.first?["ok"] == .bool(true))
            }
        }
        let sendSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        // Let the last messages arrive.
        let drainDeadline = Date().addingTimeInterval(10)
        while stats.snapshot.received < total && Date() < drainDeadline { try await Task.sleep(for: .milliseconds(50)) }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let s = stats.snapshot
        let report: [(String, String)] = [
            ("offered rate", "\(rate) msg/s over \(pairs) pairs for \(duration) s"
                + (common.urls.count > 1 ? ", sender and receiver on different instances (\(common.urls.count))" : "")),
            ("sent / delivered / stored (acked ok)", "\(s.sent) / \(s.received) / \(s.stored)"),
            ("delivered ratio", String(format: "%.4f", Double(s.received) / Double(max(1, s.sent)))),
            ("achieved delivery rate", String(format: "%.0f msg/s (sending took %.1f s)", Double(s.received) / elapsed, sendSeconds)),
            ("latency p50 / p99 / p99.9 / max", String(format: "%.2f / %.2f / %.2f / %.2f ms", s.p50, s.p99, s.p999, s.max)),
        ] + resources.report(elapsed: elapsed)
        try common.publish("direct", report)
        for client in senders + receivers { client.disconnect() }
        try await Task.sleep(for: .milliseconds(300))
        try await group.shutdownGracefully()
        try Common.requireComplete(sent: s.sent, received: s.received, stored: s.stored, expected: total)
    }
}

struct Group: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "One group of N members: messages from rotating senders, deliveries per second to everyone.")
    @OptionGroup var common: Common
    @Option(help: "Members (all connected)") var members = 1000
    @Option(help: "Messages per second into the group") var rate = 50
    @Option(help: "Seconds of sending") var duration = 10.0

    func run() async throws {
        let users = try common.loadTokens()
        guard users.count >= members else { throw ValidationError("need \(members) users in \(common.tokens), found \(users.count)") }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        var create = HTTPClientRequest(url: common.urls[0] + "/api/groups")
        create.method = .POST
        create.headers.add(name: "Authorization", value: "Bearer \(users[0].token)")
        create.headers.add(name: "Content-Type", value: "application/json")
        let body = try JSONSerialization.data(withJSONObject: ["name": "bench", "memberIds": users[1..<members].map(\.id)])
        create.body = .bytes(ByteBuffer(bytes: body))
        let created = try await http.execute(create, timeout: .seconds(60))
        let groupJSON = try await created.body.collect(upTo: 10 << 20)
        guard created.status == .created, let group = try JSONSerialization.jsonObject(with: Data(buffer: groupJSON)) as? [String: Any],
              let groupID = group["id"] as? String else { throw ValidationError("could not create the group: \(created.status)") }
        try await http.shutdown()

        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let stats = Stats()
        var clients: [SocketIOClient] = []
        for (index, user) in users.prefix(members).enumerated() {
            clients.append(try await common.connect(token: user.token, timing: "group:message:received", into: stats, on: loops, instance: index))
        }
        let resources = Resources(serverPID: common.serverPid)
        let total = Int(Double(rate) * duration)
        let loop = OpenLoop(rate: rate)
        let start = loop.start
        await loop.run(count: total) { index, due in
            let sender = clients[index % clients.count]
            stats.sent()
            Task {
                let ack = try? await sender.emitWithAck("group:message:send", [["groupId": .string(groupID), "content": .string("bench:\(due)")]],
                                                        timeout: .seconds(30))
                stats.acked(ok: ack?.first?["ok"] == .bool(true))
            }
        }
        let expected = total * (members - 1)
        let deadline = Date().addingTimeInterval(15)
        while stats.snapshot.received < expected && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let s = stats.snapshot
        let report: [(String, String)] = [
            ("group", "\(members) members, \(rate) msg/s for \(duration) s"),
            ("messages sent / stored", "\(s.sent) / \(s.stored)"),
            ("deliveries expected / received", "\(expected) / \(s.received)"),
            ("deliveries per second", String(format: "%.0f", Double(s.received) / elapsed)),
            ("members still connected", "\(clients.filter(\.isConnected).count) of \(clients.count)"),
            ("latency p50 / p99 / p99.9 / max", String(format: "%.2f / %.2f / %.2f / %.2f ms", s.p50, s.p99, s.p999, s.max)),
        ] + resources.report(elapsed: elapsed)
        try common.publish("group", report)
        for client in clients { client.disconnect() }
        try await Task.sleep(for: .milliseconds(500))
        try await loops.shutdownGracefully()
        try Common.requireComplete(sent: s.sent, received: s.received, stored: s.stored, expected: expected, stores: total)
    }
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "REST latency of history pages and the conversation list.")
    @OptionGroup var common: Common
    @Option(help: "Requests per second") var rate = 200
    @Option(help: "Seconds") var duration = 10.0

    func run() async throws {
        let users = try common.loadTokens()
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let targets: [(String, @Sendable (Int) -> String)] = [
            ("history (50 newest)", { i in "/api/messages/history?otherUserId=\(users[(i % (users.count / 2)) * 2 + 1].id)&limit=50" }),
            ("conversations", { _ in "/api/messages/conversations" }),
        ]
        var report: [(String, String)] = []
        var failed = 0
        for (label, path) in targets {
            let stats = Stats()
            let total = Int(Double(rate) * duration)
            await withTaskGroup(of: Void.self) { tasks in
                await OpenLoop(rate: rate).run(count: total) { index, due in
                    let user = users[(index % (users.count / 2)) * 2]
                    let url = common.urls[index % common.urls.count] + path(index)
                    tasks.addTask {
                        var request = HTTPClientRequest(url: url)
                        request.headers.add(name: "Authorization", value: "Bearer \(user.token)")
                        stats.sent()
                        if let response = try? await client.execute(request, timeout: .seconds(30)) {
                            _ = try? await response.body.collect(upTo: 10 << 20)
                            if response.status == .ok { stats.received(latencyNanos: DispatchTime.now().uptimeNanoseconds &- due) }
                        }
                    }
                }
            }
            let s = stats.snapshot
            report.append((label + " ok / sent", "\(s.received) / \(s.sent)"))
            report.append((label + " p50 / p99 / max", String(format: "%.2f / %.2f / %.2f ms", s.p50, s.p99, s.max)))
            failed += s.sent - s.received
        }
        try await client.shutdown()
        try common.publish("history", [("offered rate", "\(rate) requests/s for \(duration) s each")] + report)
        if failed > 0 { print("FAILED: \(failed) requests did not succeed"); throw ExitCode.failure }
    }
}

struct Search: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "REST latency of GET /api/search over bench-seed's messages: one word, a prefix, and a phrase with a filter.")
    @OptionGroup var common: Common
    @Option(help: "The seeded vocabulary, most frequent first (bench-seed writes it beside the tokens)") var words = "words.txt"
    @Option(help: "Requests per second") var rate = 100
    @Option(help: "Seconds per kind of query") var duration = 10.0

    func run() async throws {
        let users = try common.loadTokens()
        let vocabulary = try String(contentsOfFile: words, encoding: .utf8).split(separator: "\n").map(String.init)
        guard vocabulary.count >= 1_000 else { throw ValidationError("\(words) holds \(vocabulary.count) words; run bench-seed first") }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        // Words of rank 20 to 1,000: each in 0.02 % to 1 % of the word slots, as most searched words are.
        @Sendable func word(_ i: Int) -> String { vocabulary[20 + (i * 7919) % 980] }
        let targets: [(String, @Sendable (Int) -> String)] = [
            ("one word", { i in word(i) }),
            ("prefix", { i in String(word(i).prefix(3)) + "*" }),
            // Two words of rank 10–40 (each in 1–4 % of the word slots) side by side, since a date.
            ("phrase + filter", { i in "\"\(vocabulary[10 + i % 30]) \(vocabulary[10 + (i / 30) % 30])\" after:2000-01-01" }),
            // The worst case: two of the ten commonest words (each in a third of the messages or more).
            ("phrase of common words", { i in "\"\(vocabulary[i % 10]) \(vocabulary[(i / 10) % 10])\"" }),
        ]
        var report: [(String, String)] = []
        var failed = 0
        for (label, query) in targets {
            let stats = Stats()
            let hits = NIOLockedValueBox(0)
            let total = Int(Double(rate) * duration)
            await withTaskGroup(of: Void.self) { tasks in
                await OpenLoop(rate: rate).run(count: total) { index, due in
                    let user = users[(index * 31) % users.count]
                    let q = query(index).addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                    let url = common.urls[index % common.urls.count] + "/api/search?q=\(q)"
                    tasks.addTask {
                        var request = HTTPClientRequest(url: url)
                        request.headers.add(name: "Authorization", value: "Bearer \(user.token)")
                        stats.sent()
                        if let response = try? await client.execute(request, timeout: .seconds(30)),
                           let body = try? await response.body.collect(upTo: 10 << 20), response.status == .ok {
                            stats.received(latencyNanos: DispatchTime.now().uptimeNanoseconds &- due)
                            if String(buffer: body).contains("\"snippet\"") { hits.withLockedValue { $0 += 1 } }
                        }
                    }
                }
            }
            let s = stats.snapshot
            report.append((label + " ok / sent (with hits)", "\(s.received) / \(s.sent) (\(hits.withLockedValue { $0 }))"))
            report.append((label + " p50 / p99 / max", String(format: "%.2f / %.2f / %.2f ms", s.p50, s.p99, s.max)))
            failed += s.sent - s.received
        }
        try await client.shutdown()
        try common.publish("search", [("offered rate", "\(rate) requests/s for \(duration) s each")] + report)
        if failed > 0 { print("FAILED: \(failed) requests did not succeed"); throw ExitCode.failure }
    }
}

struct Catchup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A client away while M messages arrive in C conversations: time and bytes until GET /api/sync has brought it up to date.")
    @OptionGroup var common: Common
    @Option(help: "Conversations with messages for the away user (needs that many + 1 users)") var conversations = 100
    @Option(help: "Messages sent while away, spread evenly") var messages = 10_000
    @Option(help: "Feed page size (rows of the feed)") var limit = 5_000

    func run() async throws {
        let users = try common.loadTokens()
        guard users.count > conversations else { print("need \(conversations + 1) users in \(common.tokens)"); throw ExitCode.failure }
        let away = users[0]
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let base = common.urls[0]

        // Parsed as a client would, with the Socket.IO library's JSON parser.
        func get(_ path: String, token: String) async throws -> (json: SocketValue, bytes: Int) {
            var request = HTTPClientRequest(url: base + path)
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            let response = try await client.execute(request, timeout: .seconds(60))
            let body = try await response.body.collect(upTo: 256 << 20)
            let json = body.withUnsafeReadableBytes { bytes in try? JSONCodec.parse(bytes.assumingMemoryBound(to: UInt8.self)) }
            guard response.status == .ok, let json else {
                print("FAILED: \(path) answered \(response.status)")
                throw ExitCode.failure
            }
            return (json, body.readableBytes)
        }

        let start = try await get("/api/sync", token: away.token)
        guard let since = start.json["cursor"]?.stringValue else { throw ExitCode.failure }

        // While away: every sender writes its share, 32 requests in flight.
        let sendStarted = DispatchTime.now().uptimeNanoseconds
        let failures = NIOLockedValueBox(0)
        await withTaskGroup(of: Void.self) { tasks in
            for index in 0..<messages {
                if index >= 32 { await tasks.next() }
                let sender = users[1 + index % conversations]
                tasks.addTask {
                    var request = HTTPClientRequest(url: base + "/api/messages")
                    request.method = .POST
                    request.headers.add(name: "Authorization", value: "Bearer \(sender.token)")
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(ByteBuffer(string: #"{"recipientId":"\#(away.id)","content":"catch-up \#(index)"}"#))
                    let ok = (try? await client.execute(request, timeout: .seconds(60)).status) == .created
                    if !ok { failures.withLockedValue { $0 += 1 } }
                }
            }
        }
        let sendSeconds = Double(DispatchTime.now().uptimeNanoseconds - sendStarted) / 1e9
        guard failures.withLockedValue({ $0 }) == 0 else { print("FAILED: \(failures.withLockedValue { $0 }) sends"); throw ExitCode.failure }

        // Back: page through the feed until it says there is no more.
        let syncStarted = DispatchTime.now().uptimeNanoseconds
        var cursor = since
        var bytes = 0
        var pages = 0
        var messageIDs = Set<String>()
        var conversationIDs = Set<String>()
        while true {
            let page = try await get("/api/sync?since=\(cursor)&limit=\(limit)", token: away.token)
            bytes += page.bytes
            pages += 1
            for change in page.json["changes"]?.arrayValue ?? [] {
                if let id = change["message"]?["id"]?.stringValue { messageIDs.insert(id) }
                if let id = change["conversation"]?["conversationId"]?.stringValue { conversationIDs.insert(id) }
            }
            cursor = page.json["cursor"]?.stringValue ?? cursor
            if page.json["hasMore"]?.boolValue != true { break }
        }
        let syncMillis = Double(DispatchTime.now().uptimeNanoseconds - syncStarted) / 1e6
        try await client.shutdown()
        try common.publish("catchup", [
            ("missed", "\(messages) messages in \(conversations) conversations (sent in \(String(format: "%.1f", sendSeconds)) s)"),
            ("catch-up time", String(format: "%.0f ms", syncMillis)),
            ("catch-up bytes", String(format: "%.2f MB (%d pages of %d)", Double(bytes) / 1e6, pages, limit)),
            ("messages / conversations received", "\(messageIDs.count) / \(conversationIDs.count)"),
        ])
        guard messageIDs.count == messages, conversationIDs.count == conversations else {
            print("FAILED: the feed brought \(messageIDs.count) of \(messages) messages, \(conversationIDs.count) of \(conversations) conversations")
            throw ExitCode.failure
        }
    }
}

/// Open loop: event `index` is due at `start + index / rate` and goes then, whatever the server
/// is doing; latency is measured from `due`, so queueing cannot hide (no coordinated omission).
struct OpenLoop {
    let start = DispatchTime.now().uptimeNanoseconds
    let interval: UInt64

    init(rate: Int) { interval = 1_000_000_000 / UInt64(max(1, rate)) }

    func run(count: Int, _ body: (_ index: Int, _ due: UInt64) async -> Void) async {
        for index in 0..<count {
            let due = start + UInt64(index) * interval
            let now = DispatchTime.now().uptimeNanoseconds
            if due > now { try? await Task.sleep(nanoseconds: due - now) }
            await body(index, due)
        }
    }
}

/// Counters and a latency histogram (microseconds), safe from any thread.
final class Stats: Sendable {
    struct Snapshot { var sent: Int; var received: Int; var stored: Int; var p50: Double; var p99: Double; var p999: Double; var max: Double }
    private let state = NIOLockedValueBox((sent: 0, received: 0, stored: 0, histogram: Histogram<UInt64>(highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)))

    func sent() { state.withLockedValue { $0.sent += 1 } }
    func acked(ok: Bool) { if ok { state.withLockedValue { $0.stored += 1 } } }
    func received(latencyNanos: UInt64) {
        state.withLockedValue {
            $0.received += 1
            _ = $0.histogram.record(min(latencyNanos / 1000, 120_000_000))
        }
    }

    var snapshot: Snapshot {
        state.withLockedValue { s in
            Snapshot(sent: s.sent, received: s.received, stored: s.stored,
                     p50: Double(s.histogram.valueAtPercentile(50)) / 1000, p99: Double(s.histogram.valueAtPercentile(99)) / 1000,
                     p999: Double(s.histogram.valueAtPercentile(99.9)) / 1000, max: Double(s.histogram.max) / 1000)
        }
    }
}

/// The server's memory and CPU, and this process's CPU (so it can say it was not the bottleneck).
struct Resources {
    let serverPIDs: [String]
    let serverCPUStart: Double?
    let ownCPUStart: Double?

    /// `serverPID`: one process id, or several comma separated (a cluster's instances, summed).
    init(serverPID: String?) {
        serverPIDs = (serverPID ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        serverCPUStart = Self.total(serverPIDs, Self.cpuSeconds)
        ownCPUStart = Self.cpuSeconds(String(ProcessInfo.processInfo.processIdentifier))
    }

    func report(elapsed: Double) -> [(String, String)] {
        var lines: [(String, String)] = []
        let label = serverPIDs.count > 1 ? "servers (\(serverPIDs.count), summed)" : "server"
        if let rss = Self.total(serverPIDs, Self.rssMegabytes), let cpu = Self.total(serverPIDs, Self.cpuSeconds) {
            lines.append(("\(label) RSS", String(format: "%.0f MB", rss)))
            lines.append(("\(label) CPU", String(format: "%.0f %% of one core", (cpu - (serverCPUStart ?? 0)) / elapsed * 100)))
        }
        if let own = Self.cpuSeconds(String(ProcessInfo.processInfo.processIdentifier)) {
            lines.append(("this client's CPU", String(format: "%.0f %% of one core", (own - (ownCPUStart ?? 0)) / elapsed * 100)))
        }
        return lines
    }

    private static func total(_ pids: [String], _ read: (String) -> Double?) -> Double? {
        guard !pids.isEmpty else { return nil }
        var sum = 0.0
        for pid in pids {
            guard let value = read(pid) else { return nil }
            sum += value
        }
        return sum
    }

    static func rssMegabytes(_ pid: String) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kb / 1024
    }

    static func cpuSeconds(_ pid: String) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / 100
    }
}

func machineDescription() -> String {
    "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory / 1_073_741_824) GiB"
}
