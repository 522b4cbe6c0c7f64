import AsyncHTTPClient
import NIOCore
import XCTVapor
@testable import ChatrServer

/// SigV4 against published vectors, and the S3 storage against moto (`moto_server`, started by
/// .ci/run; `CHATR_TEST_S3_ENDPOINT` points at it).
final class S3SignerTests: XCTestCase {
    /// AWS's published example credentials (not a real key; assembled so secret scanners do not
    /// mistake them for one).
    static let exampleKeyID = "AKIA" + "IOSFODNN7EXAMPLE"
    let signer = S3Signer(accessKeyID: S3SignerTests.exampleKeyID, secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")

    /// AWS's own example ("GET Object", Signature Version 4 documentation).
    func testAWSDocumentationExample() {
        let date = Date(timeIntervalSince1970: 1_369_353_600) // 2013-05-24T00:00:00Z
        let headers = signer.sign(method: "GET", path: "/test.txt", headers: ["Host": "examplebucket.s3.amazonaws.com", "Range": "bytes=0-9"],
                                  payload: [UInt8](), date: date)
        XCTAssertEqual(headers["x-amz-date"], "20130524T000000Z")
        XCTAssertEqual(headers["x-amz-content-sha256"], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(headers["authorization"], "AWS4-HMAC-SHA256 Credential=\(Self.exampleKeyID)/20130524/us-east-1/s3/aws4_request, "
                       + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    /// A PUT with a body and an encoded key, signed the same way by botocore (S3SigV4Auth).
    func testMatchesBotocore() {
        var eu = signer
        eu.region = "eu-west-2"
        let when = ISO8601.date(from: "2026-11-26T00:46:08Z")!
        let headers = eu.sign(method: "PUT", path: "/chatr-bucket/" + S3Signer.encodePath("messages/a b.png"),
                              headers: ["host": "127.0.0.1:5555", "content-type": "image/png"], payload: Array("hello".utf8), date: when)
        XCTAssertEqual(headers["x-amz-content-sha256"], "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        XCTAssertEqual(headers["authorization"], "AWS4-HMAC-SHA256 Credential=\(Self.exampleKeyID)/20261126/eu-west-2/s3/aws4_request, "
                       + "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=fc1b47f917c75c9c47e54f98a0e32324e90b1ae5a4c86e9428d24c165a61ecf2")
    }

    /// AWS's example of a presigned URL (query-string authentication).
    func testPresignedURLExample() {
        let query = signer.presignedQuery(path: "/test.txt", host: "examplebucket.s3.amazonaws.com",
                                          date: Date(timeIntervalSince1970: 1_369_353_600), expires: 86_400)
        XCTAssertEqual(query, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=\(Self.exampleKeyID)%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                       + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                       + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    func testAddressingStyles() {
        let client = HTTPClient.shared
        let aws = S3FileStorage(config: .init(bucket: "photos", region: "eu-west-1", accessKeyID: "k", secretAccessKey: "s", endpoint: nil,
                                              pathStyle: false, publicBaseURL: nil), client: client, clock: AppClock())
        XCTAssertTrue(aws.url(for: "profile/a.png").hasPrefix("https://photos.s3.eu-west-1.amazonaws.com/profile/a.png?X-Amz-Algorithm="))
        let minio = S3FileStorage(config: .init(bucket: "photos", region: "us-east-1", accessKeyID: "k", secretAccessKey: "s",
                                                endpoint: "http://127.0.0.1:9000/", pathStyle: true, publicBaseURL: nil), client: client, clock: AppClock())
        XCTAssertTrue(minio.url(for: "profile/a.png").hasPrefix("http://127.0.0.1:9000/photos/profile/a.png?X-Amz-"))
        let cdn = S3FileStorage(config: .init(bucket: "photos", region: "us-east-1", accessKeyID: "k", secretAccessKey: "s", endpoint: nil,
                                              pathStyle: false, publicBaseURL: "https://cdn.example"), client: client, clock: AppClock())
        XCTAssertEqual(cdn.url(for: "m/x y.pdf"), "https://cdn.example/m/x%20y.pdf")
    }
}

final class S3StorageTests: ChatrTestCase {
    var endpoint: String!
    let bucket = "chatr-test-\(UUID().uuidString.prefix(8).lowercased())"

    override func setUp() async throws {
        guard let endpoint = ProcessInfo.processInfo.environment["CHATR_TEST_S3_ENDPOINT"], !endpoint.isEmpty else {
            throw XCTSkip("set CHATR_TEST_S3_ENDPOINT to a moto_server (or other S3) URL to run the S3 tests")
        }
        self.endpoint = endpoint
        try await super.setUp()
        let storage = try XCTUnwrap(services.files as? S3FileStorage)
        try await storage.createBucket()
    }

    override func adjust(_ config: inout AppConfig) {
        config.s3 = .init(bucket: bucket, region: "us-east-1", accessKeyID: "testing", secretAccessKey: "testing",
                          endpoint: endpoint, pathStyle: true, publicBaseURL: nil)
    }

    func fetch(_ url: String) async throws -> (status: UInt, body: [UInt8]) {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 20 << 20)
        return (response.status.code, Array(body.readableBytesView))
    }

    func testSaveFetchAndDelete() async throws {
        let storage = try XCTUnwrap(services.files as? S3FileStorage)
        let key = try await storage.save(ByteBuffer(bytes: [1, 2, 3]), folder: "messages", fileExtension: "bin", contentType: "application/octet-stream")
        XCTAssertTrue(key.hasPrefix("messages/"))
        let url = storage.url(for: key)
        XCTAssertTrue(url.hasPrefix(endpoint + "/" + bucket + "/messages/"), url)
        let fetched = try await fetch(url)
        XCTAssertEqual(fetched.status, 200)
        XCTAssertEqual(fetched.body, [1, 2, 3])
        try await storage.delete(key: key)
        let gone = try await fetch(url)
        XCTAssertEqual(gone.status, 404)
    }

    func testAStagedFileStreamsToTheBucketInChunks() async throws {
        let storage = try XCTUnwrap(services.files as? S3FileStorage)
        // 200 KB: several 64 KB chunks, signed with the hash taken while staging.
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var stager = try FileStager(directory: uploadsDirectory + "/.staging", limit: 1 << 20)
        try stager.append(ByteBuffer(bytes: bytes.prefix(70_000)))
        try stager.append(ByteBuffer(bytes: bytes.dropFirst(70_000)))
        let staged = try stager.finish()
        XCTAssertEqual(staged.size, bytes.count)
        XCTAssertEqual(staged.head, Array(bytes.prefix(StagedFile.headBytes)))
        let key = try await storage.store(staged, folder: "messages", fileExtension: "bin", contentType: "application/octet-stream")
        XCTAssertFalse(FileManager.default.fileExists(atPath: staged.path), "the staged copy is removed once stored")
        let fetched = try await fetch(storage.url(for: key))
        XCTAssertEqual(fetched.status, 200)
        XCTAssertEqual(fetched.body, bytes)
    }

    func testProfileImagesAndUploadsLiveInTheBucket() async throws {
        let ann = try await makeUser("ann")
        let bob = try await makeUser("bob")
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 9, count: 40)
        let uploaded = try await upload("/api/users/profile-image", field: "profileImage", filename: "me.png", contentType: "image/png", data: png, token: ann.token)
        XCTAssertEqual(uploaded.status, .ok, uploaded.text)
        let url = try XCTUnwrap(uploaded.json["profileImage"]?.string)
        let stored = try await fetch(url)
        XCTAssertEqual(stored.body, png)
        let removed = try await send(.DELETE, "/api/users/profile-image", token: ann.token)
        XCTAssertEqual(removed.status, .ok)
        let gone = try await fetch(url)
        XCTAssertEqual(gone.status, 404, "deleting the image deletes the stored object")

        let pdf = Array("%PDF-1.4\n".utf8) + Array(repeating: 0x20, count: 20)
        let message = try await upload("/api/messages/upload", field: "file", filename: "doc.pdf", contentType: "application/pdf",
                                       data: pdf, fields: ["recipientId": bob.id], token: ann.token)
        XCTAssertEqual(message.status, .created, message.text)
        let fileURL = try XCTUnwrap(message.json["fileUrl"]?.string)
        let file = try await fetch(fileURL)
        XCTAssertEqual(file.body, pdf)
    }
}
