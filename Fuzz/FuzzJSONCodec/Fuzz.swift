import SocketIO
import FuzzSupport

/// libFuzzer target: the library's own JSON parser. Whatever the bytes, it throws or returns a
/// value; the value serializes to JSON that parses back and serializes to the same text. (Not
/// always to the same value: like JavaScript, `1e400` parses to infinity, which is `null` in JSON.)
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONCodec(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let value = try? JSONCodec.parse(bytes) else { return 0 }
    let text = JSONCodec.serialize(value)
    guard let again = try? JSONCodec.parse(text) else { preconditionFailure("the serializer wrote JSON its parser refuses: \(text)") }
    precondition(JSONCodec.serialize(again) == text, "JSON does not survive serialize → parse → serialize: \(text)")
    return 0
}

@_cdecl("FuzzJSONCodec_main")
public func FuzzJSONCodecMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzJSONCodec)
}
