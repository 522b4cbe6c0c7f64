import SocketIO

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

/// SwiftPM links a debug executable's entry point as `<module>_main`: hand over to libFuzzer.
@_cdecl("FuzzEngineCodec_main")
public func FuzzEngineCodecMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzEngineCodec)
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ test: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt
