import Crypto
import Foundation
import NIOCore

/// An uploaded file written to disk as it arrives, so a 10 MB upload costs a few chunks of memory,
/// not 10 MB. It keeps what the rest of the upload needs without reading the file again: the
/// first bytes (to recognise the type), the size, and the SHA-256 (S3 signs it; the placeholder
/// waveform is derived from it).
struct StagedFile: Sendable {
    let path: String
    let size: Int
    let head: [UInt8]
    let sha256: SHA256Digest

    /// Deletes the file if it is still there (after `FileStorage.store` moved it, it is not).
    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// How many leading bytes are kept for recognising the type (FileSniffer reads 4 KB).
    static let headBytes = 4096
}

/// Writes chunks to a new file in `directory`, counting, hashing and keeping the head.
/// Refuses (throws `tooLarge`) as soon as more than `limit` bytes arrive, and deletes the file.
struct FileStager {
    enum Failure: Error { case tooLarge, writeFailed }

    let path: String
    let limit: Int
    private var handle: FileHandle?
    private var size = 0
    private var head: [UInt8] = []
    private var hasher = SHA256()

    init(directory: String, limit: Int) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/" + UUID().uuidString.lowercased() + ".upload"
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw Failure.writeFailed
        }
        self.handle = handle
        self.limit = limit
    }

    mutating func append(_ chunk: ByteBuffer) throws {
        guard let handle else { throw Failure.writeFailed }
        size += chunk.readableBytes
        guard size <= limit else { discard(); throw Failure.tooLarge }
        try chunk.withUnsafeReadableBytes { bytes in
            hasher.update(bufferPointer: bytes)
            if head.count < StagedFile.headBytes { head.append(contentsOf: bytes.prefix(StagedFile.headBytes - head.count)) }
            try handle.write(contentsOf: bytes)
        }
    }

    /// Closes the file and hands it over; the caller now owns (and must remove or store) it.
    mutating func finish() throws -> StagedFile {
        guard let handle else { throw Failure.writeFailed }
        try handle.close()
        self.handle = nil
        return StagedFile(path: path, size: size, head: head, sha256: hasher.finalize())
    }

    /// Closes and deletes the partial file (the upload failed or was refused).
    mutating func discard() {
        try? handle?.close()
        handle = nil
        try? FileManager.default.removeItem(atPath: path)
    }
}
