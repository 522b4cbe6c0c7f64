import SocketIO
import FuzzSupport

/// libFuzzer target: Engine.IO packets and long-polling payloads (`record-separator` framed).
/// Whatever the bytes, decoding throws or returns packets; what decodes re-encodes to text that
/// decodes to the same packets.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEngineCodec(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let packet = try? EngineCodec.decode(text: Substring(text)) {
        let again = try? EngineCodec.decode(text: Substring(EngineCodec.encode(packet)))
        precondition(again == packet, "an Engine.IO packet does not survive encode → decode")
    }
    if let packets = try? EngineCodec.decodePayload(text) {
        let again = try? EngineCodec.decodePayload(EngineCodec.encodePayload(packets))
        precondition(again == packets, "a polling payload does not survive encode → decode")
    }
    return 0
}

@_cdecl("FuzzEngineCodec_main")
public func FuzzEngineCodecMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzEngineCodec)
}
