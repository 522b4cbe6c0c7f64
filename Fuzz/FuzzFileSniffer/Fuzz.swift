@testable import ChatrServer
import FuzzSupport

/// libFuzzer target: deciding a file's type from its bytes (uploads never trust the client's
/// Content-Type). Whatever the bytes, an answer or nil — and the same answer from the head alone.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFileSniffer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let whole = FileSniffer.sniff(bytes)
    precondition(FileSniffer.sniff(head: Array(bytes.prefix(4096)), size: size) == whole)
    return 0
}

@_cdecl("FuzzFileSniffer_main")
public func FuzzFileSnifferMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzFileSniffer)
}
