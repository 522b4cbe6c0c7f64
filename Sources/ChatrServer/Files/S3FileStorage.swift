import Crypto
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Files in an S3 bucket — AWS or any S3-compatible store (`S3_ENDPOINT`), with virtual-host or
/// path-style addressing. Requests are signed with SigV4; files are served by their URL.
struct S3FileStorage: FileStorage {
    struct Config: Sendable {
        var bucket: String
        var region: String
        var accessKeyID: String
        var secretAccessKey: String
        /// `https://s3.example.com` for non-AWS stores; nil for AWS.
        var endpoint: String?
        var pathStyle: Bool
        /// Where clients fetch files (a CDN, say); defaults to the object URL.
        var publicBaseURL: String?
    }

    let config: Config
    let client: HTTPClient
    let clock: AppClock

    var signer: S3Signer { S3Signer(accessKeyID: config.accessKeyID, secretAccessKey: config.secretAccessKey, region: config.region) }

    /// The base URL of the bucket and the request path prefix for keys.
    var bucketBase: (url: String, pathPrefix: String) {
        let endpoint = (config.endpoint ?? "https://s3.\(config.region).amazonaws.com").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard !config.pathStyle, let scheme = endpoint.range(of: "://") else {
            return (endpoint + "/" + config.bucket, "/" + config.bucket)
        }
        // Virtual-host style: https://bucket.s3.region.amazonaws.com
        return (endpoint[..<scheme.upperBound] + config.bucket + "." + endpoint[scheme.upperBound...], "")
    }

    func save(_ data: ByteBuffer, folder: String, fileExtension: String, contentType: String) async throws -> String {
        let key = Self.newKey(folder: folder, fileExtension: fileExtension)
        let response = try await send(method: .PUT, key: key, body: data, contentType: contentType)
        guard (200..<300).contains(response.status.code) else {
            throw DeliveryError(service: "S3", status: Int(response.status.code), detail: String(buffer: response.body))
        }
        return key
    }

    /// Streams the staged file to S3 in 64 KB chunks, signed with the hash taken while staging.
    func store(_ file: StagedFile, folder: String, fileExtension: String, contentType: String) async throws -> String {
        let key = Self.newKey(folder: folder, fileExtension: fileExtension)
        guard let handle = FileHandle(forReadingAtPath: file.path) else { throw FileStorageError.writeFailed(key) }
        defer { try? handle.close() }
        // Read lazily, one chunk each time the HTTP client asks for more.
        let chunks = AsyncThrowingStream<ByteBuffer, any Error> {
            guard let data = try handle.read(upToCount: 64 * 1024), !data.isEmpty else { return nil }
            return ByteBuffer(data: data)
        }
        let response = try await send(method: .PUT, key: key, body: .stream(chunks, length: .known(Int64(file.size))),
                                      payloadHash: file.sha256, contentType: contentType)
        guard (200..<300).contains(response.status.code) else {
            throw DeliveryError(service: "S3", status: Int(response.status.code), detail: String(buffer: response.body))
        }
        file.remove()
        return key
    }

    func delete(key: String) async throws {
        let response = try await send(method: .DELETE, key: key, body: ByteBuffer(), contentType: nil)
        guard (200..<300).contains(response.status.code) || response.status == .notFound else {
            throw DeliveryError(service: "S3", status: Int(response.status.code), detail: String(buffer: response.body))
        }
    }

    /// With `S3_PUBLIC_URL` (a public bucket or CDN), a plain URL. Otherwise a presigned URL:
    /// the bucket can stay private. It is signed as of midnight UTC and valid for 7 days, so the
    /// same file has the same URL all day (browsers can cache it) and it works for at least 6.
    func url(for key: String) -> String {
        let encoded = S3Signer.encodePath(key)
        if let publicBase = config.publicBaseURL { return publicBase + "/" + encoded }
        let base = bucketBase
        guard let host = Self.host(of: base.url) else { return base.url + "/" + encoded }
        let midnight = Date(timeIntervalSince1970: (clock.now.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
        let query = signer.presignedQuery(path: base.pathPrefix + "/" + encoded, host: host, date: midnight, expires: 7 * 86_400)
        return base.url + "/" + encoded + "?" + query
    }

    static func host(of url: String) -> String? {
        guard let parsed = URL(string: url), let host = parsed.host else { return nil }
        return parsed.port.map { "\(host):\($0)" } ?? host
    }

    /// Creates the bucket (tests and first-time setup against S3-compatible stores).
    func createBucket() async throws {
        let response = try await send(method: .PUT, key: nil, body: ByteBuffer(), contentType: nil)
        guard (200..<300).contains(response.status.code) || response.status == .conflict else {
            throw DeliveryError(service: "S3", status: Int(response.status.code), detail: String(buffer: response.body))
        }
    }

    struct Response { var status: HTTPResponseStatus; var body: ByteBuffer }

    func send(method: HTTPMethod, key: String?, body: ByteBuffer, contentType: String?) async throws -> Response {
        try await send(method: method, key: key, body: .bytes(body), payloadHash: SHA256.hash(data: body.readableBytesView), contentType: contentType)
    }

    func send(method: HTTPMethod, key: String?, body: HTTPClientRequest.Body, payloadHash: SHA256Digest, contentType: String?) async throws -> Response {
        let base = bucketBase
        let path = base.pathPrefix + (key.map { "/" + S3Signer.encodePath($0) } ?? (base.pathPrefix.isEmpty ? "/" : ""))
        let url = base.url + (key.map { "/" + S3Signer.encodePath($0) } ?? "")
        guard let host = Self.host(of: url) else { throw FileStorageError.invalidKey }
        var toSign = ["host": host]
        if let contentType { toSign["content-type"] = contentType }
        let signed = signer.sign(method: method.rawValue, path: path, headers: toSign, payloadHash: payloadHash, date: clock.now)
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in toSign where name != "host" { request.headers.add(name: name, value: value) }
        for (name, value) in signed { request.headers.add(name: name, value: value) }
        request.body = body
        let response = try await client.execute(request, timeout: .seconds(30))
        return Response(status: response.status, body: try await response.body.collect(upTo: 1 << 20))
    }
}
