import SocketIO
import FuzzSupport

/// libFuzzer target: Socket.IO packets (type, namespace, ack id, JSON data, attachment count).
/// Whatever the bytes, decoding throws or returns a packet, never traps; a packet re-encodes to
/// text that decodes and encodes to the same text (not always the same value: numbers too large
/// for a Double are infinite, `null` in JSON, as in JavaScript).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSocketCodec(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let (packet, attachments) = try? SocketCodec.decode(text, maxAttachments: 10), attachments == 0 {
        let encoded = SocketCodec.encode(packet)
        if encoded.attachments.isEmpty {
            guard let again = try? SocketCodec.decode(encoded.text) else {
                preconditionFailure("the encoder wrote a packet its decoder refuses: \(encoded.text)")
            }
            precondition(SocketCodec.encode(again.packet).text == encoded.text, "a packet does not survive encode → decode → encode")
        }
    }
    return 0
}

@_cdecl("FuzzSocketCodec_main")
public func FuzzSocketCodecMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzSocketCodec)
}
