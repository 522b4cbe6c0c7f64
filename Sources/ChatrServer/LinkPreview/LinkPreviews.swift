import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Vapor

/// A link's preview card (`GET /api/link-preview?url=`).
struct LinkPreview: Content, Equatable {
    var url: String
    var title: String?
    var description: String?
    var siteName: String?
    /// The page's picture, through this server (`/api/link-preview/image`): the web client's
    /// CSP loads images from its own origin only, and the reader's address is not given to
    /// whatever site the link points at.
    var image: String?

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(url, forKey: .url)
        try c.encode(title, forKey: .title)
        try c.encode(description, forKey: .description)
        try c.encode(siteName, forKey: .siteName)
        try c.encode(image, forKey: .image)
    }
}

/// Fetches pages and pictures for link previews: each hop of a redirect checked by the
/// `OutboundAddressPolicy`, 8 seconds in all (headers, redirects and body: a site that drips
/// its body a byte at a time is cut off) and a few hundred kilobytes at most, at most 32 fetches
/// at once, answers cached (failures too, for less time) and concurrent asks for one link or
/// picture sharing one fetch. Fetching and parsing run off the actor: only the cache is on it.
actor LinkPreviews: LifecycleHandler {
    static let maxPageBytes = 512 * 1024
    static let maxImageBytes = 1024 * 1024
    static let maxRedirects = 3
    static let timeout = TimeAmount.seconds(5)
    /// Everything one fetch may take, body included.
    static let totalTimeout = Duration.seconds(8)
    static let maxConcurrentFetches = 32
    static let cacheSize = 1_000
    static let imageCacheBytes = 32 * 1024 * 1024
    static let successLifetime: TimeInterval = 3_600
    static let failureLifetime: TimeInterval = 600

    enum Failure: Error, Equatable {
        case refused(OutboundAddressPolicy.Refusal)
        case unavailable(String)
    }

    struct Image: Sendable {
        var bytes: ByteBuffer
        var contentType: String
    }

    private let client: HTTPClient
    private let policy: OutboundAddressPolicy
    private let signingKey: SymmetricKey
    private let clock: AppClock
    private let logger: Logger
    private let backendURL: String

    private var pages: [String: (expires: Date, result: Result<LinkPreview, Failure>)] = [:]
    private var pageOrder: [String] = []
    private var fetching: [String: Task<Result<LinkPreview, Failure>, Never>] = [:]
    private var images: [String: Image] = [:]
    private var imageOrder: [String] = []
    private var imageBytes = 0
    private var imageFailures: [String: (expires: Date, failure: Failure)] = [:]
    private var fetchingImages: [String: Task<Result<Image, Failure>, Never>] = [:]
    private var fetchesRunning = 0

    init(allowPrivate: Bool, secret: String, backendURL: String, clock: AppClock, eventLoopGroup: any EventLoopGroup, logger: Logger) {
        client = HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup),
                            configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(3), read: .seconds(5))))
        policy = OutboundAddressPolicy(allowPrivate: allowPrivate)
        signingKey = SymmetricKey(data: SHA256.hash(data: Data("chatr link preview images".utf8) + Data(secret.utf8)))
        self.clock = clock
        self.logger = logger
        self.backendURL = backendURL.hasSuffix("/") ? String(backendURL.dropLast()) : backendURL
    }

    nonisolated func shutdownAsync(_ application: Application) async {
        try? await client.shutdown()
    }

    // MARK: Pages

    func preview(of raw: String) async -> Result<LinkPreview, Failure> {
        do {
            _ = try policy.checkShape(raw)
        } catch {
            return .failure(.refused(error))
        }
        let now = clock.now
        if let cached = pages[raw], cached.expires > now { return cached.result }
        if let running = fetching[raw] { return await running.value }
        guard fetchesRunning < Self.maxConcurrentFetches else { return .failure(.unavailable("too many previews are being made; try again")) }
        fetchesRunning += 1
        let task = Task { await self.fetchPreview(raw) }
        fetching[raw] = task
        let result = await task.value
        fetching[raw] = nil
        fetchesRunning -= 1
        remember(raw, result)
        return result
    }

    private func remember(_ key: String, _ result: Result<LinkPreview, Failure>) {
        let lifetime = (try? result.get()) != nil ? Self.successLifetime : Self.failureLifetime
        if pages.updateValue((clock.now.addingTimeInterval(lifetime), result), forKey: key) == nil { pageOrder.append(key) }
        // (A refreshed key keeps its place in the order: it may leave a little early. Fine for a cache.)
        while pageOrder.count > Self.cacheSize { pages[pageOrder.removeFirst()] = nil }
    }

    private nonisolated func fetchPreview(_ raw: String) async -> Result<LinkPreview, Failure> {
        do {
            let (finalURL, response, body) = try await fetch(raw, accept: "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5", limit: Self.maxPageBytes)
            let type = response.headers.first(name: .contentType)?.lowercased() ?? ""
            let host = finalURL.host ?? ""
            if type.hasPrefix("image/") {
                // A link to a picture previews as the picture.
                return .success(LinkPreview(url: raw, title: finalURL.lastPathComponent, siteName: host, image: imageURL(for: finalURL.absoluteString)))
            }
            guard type.hasPrefix("text/html") || type.hasPrefix("application/xhtml") else {
                // The site's own words, shortened: a failure is cached, and it is not the place for a site's essay.
                return .failure(.unavailable("\(host) answered \(type.isEmpty ? "no content type" : String(type.prefix(60))), not a page"))
            }
            let page = LinkPreviewParser.parse(body.readableBytesView)
            guard page.title != nil || page.description != nil else { return .failure(.unavailable("\(host) says nothing about the page")) }
            // A picture address longer than any link may be is dropped, not signed and cached.
            let image = page.image.flatMap { $0.utf8.count <= OutboundAddressPolicy.maxURLLength ? URL(string: $0, relativeTo: finalURL)?.absoluteURL : nil }
                .flatMap { ["http", "https"].contains($0.scheme?.lowercased() ?? "") && $0.absoluteString.utf8.count <= OutboundAddressPolicy.maxURLLength ? $0 : nil }
            return .success(LinkPreview(url: raw, title: page.title, description: page.description, siteName: page.siteName ?? host,
                                        image: image.map { imageURL(for: $0.absoluteString) }))
        } catch let failure as Failure {
            return .failure(failure)
        } catch {
            return .failure(.unavailable(String(describing: error)))
        }
    }

    /// `fetchOnce` under one deadline for everything — redirects, headers and body: AsyncHTTPClient's
    /// own deadline ends when the headers arrive, and its read timeout is per read.
    private nonisolated func fetch(_ raw: String, accept: String, limit: Int) async throws -> (URL, HTTPClientResponse, ByteBuffer) {
        try await withThrowingTaskGroup(of: (URL, HTTPClientResponse, ByteBuffer)?.self) { group in
            group.addTask { try await self.fetchOnce(raw, accept: accept, limit: limit) }
            group.addTask {
                try await Task.sleep(for: Self.totalTimeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else {
                throw Failure.unavailable("\(URL(string: raw)?.host ?? "the site") took more than \(Self.totalTimeout) to answer")
            }
            return result
        }
    }

    /// GET, following up to three redirects, each target checked; the body read up to `limit`
    /// bytes (the rest is not waited for).
    private nonisolated func fetchOnce(_ raw: String, accept: String, limit: Int) async throws -> (URL, HTTPClientResponse, ByteBuffer) {
        var target = raw
        for hop in 0...Self.maxRedirects {
            let url: URL
            do {
                url = try await policy.check(target)
            } catch .invalid(let reason) where hop > 0 {
                // The link was fine; where the site sent us is not something we fetch.
                throw Failure.unavailable("a redirect to a link that is not http(s): \(reason)")
            } catch {
                throw Failure.refused(error)
            }
            var request = HTTPClientRequest(url: url.absoluteString)
            request.headers.add(name: .userAgent, value: "Mozilla/5.0 (compatible; ChatrLinkPreview/1.0)")
            request.headers.add(name: .accept, value: accept)
            let response: HTTPClientResponse
            do {
                response = try await client.execute(request, timeout: Self.timeout)
            } catch {
                logger.info("link preview: \(url.host ?? target) could not be fetched: \(error)")
                throw Failure.unavailable("\(url.host ?? target) could not be reached")
            }
            if (300..<400).contains(response.status.code), let location = response.headers.first(name: .location),
               let next = URL(string: location, relativeTo: url)?.absoluteURL {
                target = next.absoluteString
                continue
            }
            guard response.status == .ok else { throw Failure.unavailable("\(url.host ?? target) answered \(response.status.code)") }
            var body = ByteBuffer()
            do {
                for try await chunk in response.body {
                    body.writeImmutableBuffer(chunk.getSlice(at: chunk.readerIndex, length: min(chunk.readableBytes, limit - body.readableBytes))!)
                    if body.readableBytes >= limit { break }
                }
            } catch {
                throw Failure.unavailable("\(url.host ?? target) stopped answering")
            }
            return (url, response, body)
        }
        throw Failure.unavailable("more than \(Self.maxRedirects) redirects")
    }

    // MARK: Images

    /// The picture's address through this server, signed so that the route fetches only what a
    /// preview named (it is not an open proxy).
    private nonisolated func imageURL(for source: String) -> String {
        // Everything but unreserved characters escaped: a source's own `&`, `=`, `+` or `#` must not
        // end up as this URL's syntax.
        let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        let escaped = source.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
        return backendURL + "/api/link-preview/image?url=" + escaped + "&sig=" + signature(of: source)
    }

    nonisolated func signature(of source: String) -> String {
        Base64URL.encode(Array(HMAC<SHA256>.authenticationCode(for: Data(source.utf8), using: signingKey)))
    }

    /// A preview's picture: fetched once (checked like a page; concurrent asks share the fetch),
    /// only if it is a JPEG, PNG, WebP or GIF by its bytes and at most 1 MB, then kept in memory
    /// (32 MB in all, oldest dropped). A failure is remembered like a page's.
    func image(_ source: String, signature given: String) async -> Result<Image, Failure> {
        guard Self.sameBytes(given, signature(of: source)) else { return .failure(.refused(.notAllowed("That picture was not named by a preview"))) }
        if let cached = images[source] { return .success(cached) }
        if let failed = imageFailures[source], failed.expires > clock.now { return .failure(failed.failure) }
        if let running = fetchingImages[source] { return await running.value }
        guard fetchesRunning < Self.maxConcurrentFetches else { return .failure(.unavailable("too many pictures are being fetched; try again")) }
        fetchesRunning += 1
        let task = Task { await self.fetchImage(source) }
        fetchingImages[source] = task
        let result = await task.value
        fetchingImages[source] = nil
        fetchesRunning -= 1
        switch result {
        case .success(let image):
            if images.updateValue(image, forKey: source) == nil {
                imageOrder.append(source)
                imageBytes += image.bytes.readableBytes
            }
            while imageBytes > Self.imageCacheBytes, !imageOrder.isEmpty {
                let oldest = imageOrder.removeFirst()
                imageBytes -= images.removeValue(forKey: oldest)?.bytes.readableBytes ?? 0
            }
        case .failure(let failure):
            if imageFailures.count >= Self.cacheSize { imageFailures.removeAll() }
            imageFailures[source] = (clock.now.addingTimeInterval(Self.failureLifetime), failure)
        }
        return result
    }

    private nonisolated func fetchImage(_ source: String) async -> Result<Image, Failure> {
        do {
            let (_, _, body) = try await fetch(source, accept: "image/webp,image/png,image/jpeg,image/gif", limit: Self.maxImageBytes + 1)
            guard body.readableBytes <= Self.maxImageBytes else { return .failure(.unavailable("the picture is larger than 1 MB")) }
            let bytes = Array(body.readableBytesView.prefix(StagedFile.headBytes))
            guard let kind = FileSniffer.sniff(head: bytes, size: body.readableBytes), kind.isImage else {
                return .failure(.unavailable("not a picture"))
            }
            return .success(Image(bytes: body, contentType: kind.mimeType))
        } catch let failure as Failure {
            return .failure(failure)
        } catch {
            return .failure(.unavailable(String(describing: error)))
        }
    }

    /// Compares two signatures in time that does not depend on where they differ.
    static func sameBytes(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
