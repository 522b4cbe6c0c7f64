import Foundation
import NIOCore
@testable import ChatrServer
import FuzzSupport

/// libFuzzer target: the streaming multipart reader of uploads. The first byte picks the chunk
/// size (so part boundaries fall anywhere between chunks); the rest is the body, with boundary
/// `X`. Whatever the bytes: a form, or a thrown error — never a trap — and the staged file is
/// never larger than the limit, and is gone after `discard`.
let staging = NSTemporaryDirectory() + "chatr-fuzz-multipart-\(getpid())"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMultipart(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    try? FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
    let chunkSize = Int(data[0]) + 1
    let body = UnsafeBufferPointer(start: data + 1, count: size - 1)
    let maxFileBytes = 4096
    let reader = MultipartUpload.Reader(fileField: "file", maxFileBytes: maxFileBytes, stagingDirectory: staging, boundary: "X")
    do {
        var offset = 0
        while offset < body.count {
            let end = min(body.count, offset + chunkSize)
            try reader.feed(ByteBuffer(bytes: body[offset..<end]))
            offset = end
        }
        let form = try reader.finish()
        if let file = form.file {
            precondition(file.size <= maxFileBytes, "a staged file over the limit: \(file.size)")
            file.remove()
        }
    } catch {
        reader.discard()
    }
    let left = (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? []
    precondition(left.isEmpty, "staged files left behind: \(left)")
    return 0
}

@_cdecl("FuzzMultipart_main")
public func FuzzMultipartMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzMultipart)
}
