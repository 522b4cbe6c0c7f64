import Foundation

/// A QR code encoder (ISO/IEC 18004) for what Chatr needs to show: an `otpauth://` URI.
/// Byte mode, error-correction level M, versions 1–10 (up to 213 bytes). No Swift QR package is
/// available here, and a system library would make `swift test` need more than the toolchain.
struct QRCode: Sendable {
    struct TooLong: Error {}

    let version: Int
    let size: Int
    /// `modules[y][x]`, true = dark.
    private(set) var modules: [[Bool]]
    private var isFunction: [[Bool]]
    private(set) var mask = 0

    /// Level M block structure per version: (EC codewords per block, [(block count, data codewords)]).
    static let blockTable: [Int: (ec: Int, groups: [(count: Int, data: Int)])] = [
        1: (10, [(1, 16)]), 2: (16, [(1, 28)]), 3: (26, [(1, 44)]), 4: (18, [(2, 32)]),
        5: (24, [(2, 43)]), 6: (16, [(4, 27)]), 7: (18, [(4, 31)]), 8: (22, [(2, 38), (2, 39)]),
        9: (22, [(3, 36), (2, 37)]), 10: (26, [(4, 43), (1, 44)]),
    ]

    static let alignmentCenters: [Int: [Int]] = [
        1: [], 2: [6, 18], 3: [6, 22], 4: [6, 26], 5: [6, 30], 6: [6, 34],
        7: [6, 22, 38], 8: [6, 24, 42], 9: [6, 26, 46], 10: [6, 28, 50],
    ]

    static func dataCapacity(version: Int) -> Int {
        blockTable[version]!.groups.reduce(0) { $0 + $1.count * $1.data }
    }

    static func encode(_ bytes: [UInt8]) throws -> QRCode {
        guard let version = (1...10).first(where: { 4 + ($0 < 10 ? 8 : 16) + 8 * bytes.count <= dataCapacity(version: $0) * 8 }) else {
            throw TooLong()
        }
        var code = QRCode(version: version)
        code.drawCodewords(interleaved(dataCodewords(bytes, version: version), version: version))
        code.applyBestMask()
        return code
    }

    private init(version: Int) {
        self.version = version
        size = 17 + 4 * version
        modules = Array(repeating: Array(repeating: false, count: size), count: size)
        isFunction = modules
        drawFunctionPatterns()
    }

    // MARK: Data

    /// Mode indicator, length, bytes, terminator and padding, as codewords.
    static func dataCodewords(_ bytes: [UInt8], version: Int) -> [UInt8] {
        var bits: [Bool] = []
        func append(_ value: Int, _ count: Int) { for i in (0..<count).reversed() { bits.append((value >> i) & 1 == 1) } }
        let capacityBits = dataCapacity(version: version) * 8
        append(0b0100, 4)
        append(bytes.count, version < 10 ? 8 : 16)
        for byte in bytes { append(Int(byte), 8) }
        append(0, min(4, capacityBits - bits.count))
        append(0, (8 - bits.count % 8) % 8)
        var codewords = stride(from: 0, to: bits.count, by: 8).map { start in
            (0..<8).reduce(UInt8(0)) { $0 << 1 | (bits[start + $1] ? 1 : 0) }
        }
        var pad: UInt8 = 0xEC
        while codewords.count < capacityBits / 8 {
            codewords.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }
        return codewords
    }

    /// Splits into blocks, adds error correction, and interleaves as the symbol stores them.
    static func interleaved(_ data: [UInt8], version: Int) -> [UInt8] {
        let layout = blockTable[version]!
        let generator = ReedSolomon.generator(degree: layout.ec)
        var blocks: [[UInt8]] = []
        var offset = 0
        for group in layout.groups {
            for _ in 0..<group.count {
                blocks.append(Array(data[offset..<offset + group.data]))
                offset += group.data
            }
        }
        let ecBlocks = blocks.map { ReedSolomon.remainder(of: $0, generator: generator) }
        var result: [UInt8] = []
        for index in 0..<(blocks.map(\.count).max() ?? 0) {
            for block in blocks where index < block.count { result.append(block[index]) }
        }
        for index in 0..<layout.ec {
            for block in ecBlocks { result.append(block[index]) }
        }
        return result
    }

    // MARK: Function patterns

    private mutating func setFunction(_ x: Int, _ y: Int, _ dark: Bool) {
        modules[y][x] = dark
        isFunction[y][x] = true
    }

    private mutating func drawFunctionPatterns() {
        for i in 0..<size {
            setFunction(6, i, i % 2 == 0)
            setFunction(i, 6, i % 2 == 0)
        }
        for (cx, cy) in [(3, 3), (size - 4, 3), (3, size - 4)] {
            for dy in -4...4 {
                for dx in -4...4 where (0..<size).contains(cx + dx) && (0..<size).contains(cy + dy) {
                    let distance = max(abs(dx), abs(dy))
                    setFunction(cx + dx, cy + dy, distance != 2 && distance != 4)
                }
            }
        }
        let centers = Self.alignmentCenters[version]!
        for (i, cy) in centers.enumerated() {
            for (j, cx) in centers.enumerated() {
                let last = centers.count - 1
                if (i == 0 && j == 0) || (i == 0 && j == last) || (i == last && j == 0) { continue }
                for dy in -2...2 {
                    for dx in -2...2 { setFunction(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1) }
                }
            }
        }
        drawFormatBits(mask: 0)
        drawVersionBits()
    }

    /// 15 format bits: level M (00) and the mask, BCH(15,5)-protected, XOR 0x5412, in two copies.
    static func formatBits(mask: Int) -> Int {
        let data = (0b00 << 3) | mask
        var remainder = data
        for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
        return ((data << 10) | remainder) ^ 0x5412
    }

    private mutating func drawFormatBits(mask: Int) {
        let bits = Self.formatBits(mask: mask)
        func bit(_ i: Int) -> Bool { (bits >> i) & 1 == 1 }
        for i in 0...5 { setFunction(8, i, bit(i)) }
        setFunction(8, 7, bit(6))
        setFunction(8, 8, bit(7))
        setFunction(7, 8, bit(8))
        for i in 9..<15 { setFunction(14 - i, 8, bit(i)) }
        for i in 0..<8 { setFunction(size - 1 - i, 8, bit(i)) }
        for i in 8..<15 { setFunction(8, size - 15 + i, bit(i)) }
        setFunction(8, size - 8, true)
    }

    /// Versions 7 and up carry their number, BCH(18,6)-protected, beside two finders.
    private mutating func drawVersionBits() {
        guard version >= 7 else { return }
        var remainder = version
        for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
        let bits = (version << 12) | remainder
        for i in 0..<18 {
            let dark = (bits >> i) & 1 == 1
            let a = size - 11 + i % 3, b = i / 3
            setFunction(a, b, dark)
            setFunction(b, a, dark)
        }
    }

    // MARK: Data placement and masking

    /// Zig-zags two columns at a time from the bottom-right corner, skipping the timing column.
    private mutating func drawCodewords(_ codewords: [UInt8]) {
        var bitIndex = 0
        var right = size - 1
        while right >= 1 {
            if right == 6 { right = 5 }
            for vertical in 0..<size {
                for j in 0..<2 {
                    let x = right - j
                    let upward = (right + 1) & 2 == 0
                    let y = upward ? size - 1 - vertical : vertical
                    if !isFunction[y][x] && bitIndex < codewords.count * 8 {
                        modules[y][x] = (codewords[bitIndex >> 3] >> (7 - (bitIndex & 7))) & 1 == 1
                        bitIndex += 1
                    }
                }
            }
            right -= 2
        }
    }

    static func maskBit(_ mask: Int, x: Int, y: Int) -> Bool {
        switch mask {
        case 0: return (x + y) % 2 == 0
        case 1: return y % 2 == 0
        case 2: return x % 3 == 0
        case 3: return (x + y) % 3 == 0
        case 4: return (x / 3 + y / 2) % 2 == 0
        case 5: return x * y % 2 + x * y % 3 == 0
        case 6: return (x * y % 2 + x * y % 3) % 2 == 0
        default: return ((x + y) % 2 + x * y % 3) % 2 == 0
        }
    }

    private mutating func applyMask(_ mask: Int) {
        for y in 0..<size {
            for x in 0..<size where !isFunction[y][x] && Self.maskBit(mask, x: x, y: y) {
                modules[y][x].toggle()
            }
        }
    }

    /// Tries all eight masks and keeps the one with the lowest penalty (easiest to scan).
    private mutating func applyBestMask() {
        var best = (mask: 0, penalty: Int.max)
        for candidate in 0..<8 {
            applyMask(candidate)
            drawFormatBits(mask: candidate)
            let penalty = self.penalty()
            if penalty < best.penalty { best = (candidate, penalty) }
            applyMask(candidate) // XOR again undoes it
        }
        applyMask(best.mask)
        drawFormatBits(mask: best.mask)
        mask = best.mask
    }

    /// The four penalty rules of ISO/IEC 18004 §7.8.3.
    func penalty() -> Int {
        var score = 0
        let lines = modules + (0..<size).map { x in modules.map { $0[x] } }
        let finderLike: [Bool] = [true, false, true, true, true, false, true]
        let quiet = [Bool](repeating: false, count: 4)
        for line in lines {
            var runColor = line[0], runLength = 1
            for module in line.dropFirst() {
                if module == runColor { runLength += 1 } else {
                    if runLength >= 5 { score += runLength - 2 }
                    runColor = module
                    runLength = 1
                }
            }
            if runLength >= 5 { score += runLength - 2 }
            for start in 0...(line.count - 11) {
                let window = Array(line[start..<start + 11])
                if window == quiet + finderLike || window == finderLike + quiet { score += 40 }
            }
        }
        for y in 0..<(size - 1) {
            for x in 0..<(size - 1) {
                let color = modules[y][x]
                if color == modules[y][x + 1] && color == modules[y + 1][x] && color == modules[y + 1][x + 1] { score += 3 }
            }
        }
        let dark = modules.reduce(0) { $0 + $1.filter { $0 }.count }
        let percent = dark * 100 / (size * size)
        score += abs(percent - 50) / 5 * 10
        return score
    }

    // MARK: Rendering

    /// An SVG with a 4-module quiet zone, as a `data:` URL an `<img>` can show.
    func svgDataURL(moduleSize: Int = 6) -> String {
        let border = 4, total = (size + 2 * border) * moduleSize
        var path = ""
        for y in 0..<size {
            for x in 0..<size where modules[y][x] {
                path += "M\(x + border),\(y + border)h1v1h-1z"
            }
        }
        let svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(total)" height="\(total)" viewBox="0 0 \(size + 2 * border) \(size + 2 * border)" shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#fff"/><path fill="#000" d="\(path)"/></svg>
        """
        return "data:image/svg+xml;base64," + Data(svg.utf8).base64EncodedString()
    }

    /// A binary PGM image (for scanning with zbarimg in tests).
    func pgm(moduleSize: Int = 8) -> Data {
        let border = 4, pixels = (size + 2 * border) * moduleSize
        var data = Data("P5\n\(pixels) \(pixels)\n255\n".utf8)
        for py in 0..<pixels {
            for px in 0..<pixels {
                let x = px / moduleSize - border, y = py / moduleSize - border
                let dark = (0..<size).contains(x) && (0..<size).contains(y) && modules[y][x]
                data.append(dark ? 0 : 255)
            }
        }
        return data
    }
}
