// A structural pre-check of msgpack bytes, so msgpack-c never allocates for counts the bytes cannot back.
//
// msgpack-c allocates an array's or map's elements up front from the declared count: five bytes
// can ask for gigabytes. This walk checks every declared length against the bytes that remain.

enum MessagePackBounds {
    /// The most elements one array or map in a message may declare.
    static let maxContainerCount = 1024

    /// Throws `malformedMessage` unless `bytes` is exactly one well-formed msgpack value within limits.
    static func check(_ bytes: [UInt8]) throws {
        var index = 0
        var pending = 1
        func fail(_ what: String) -> SwiftMateError {
            SwiftMateError(.malformedMessage, "malformed message at byte \(index): \(what)")
        }
        func need(_ count: Int) throws {
            guard count >= 0, bytes.count - index >= count else { throw fail("truncated") }
        }
        func readBE(_ width: Int) throws -> Int {
            try need(width)
            var value = 0
            for i in 0..<width { value = value << 8 | Int(bytes[index + i]) }
            index += width
            return value
        }
        func container(_ count: Int, _ perElement: Int) throws {
            guard count <= maxContainerCount else { throw fail("container of \(count) elements (limit \(maxContainerCount))") }
            pending += count * perElement
            guard pending <= bytes.count - index else { throw fail("declares more elements than bytes remain") }
        }
        while pending > 0 {
            try need(1)
            let tag = bytes[index]
            index += 1
            pending -= 1
            switch tag {
            case 0x00...0x7f, 0xe0...0xff, 0xc0, 0xc2, 0xc3: break
            case 0x80...0x8f: try container(Int(tag & 0x0f), 2)
            case 0x90...0x9f: try container(Int(tag & 0x0f), 1)
            case 0xa0...0xbf: try need(Int(tag & 0x1f)); index += Int(tag & 0x1f)
            case 0xc4, 0xd9: let n = try readBE(1); try need(n); index += n
            case 0xc5, 0xda: let n = try readBE(2); try need(n); index += n
            case 0xc6, 0xdb: let n = try readBE(4); try need(n); index += n
            case 0xc7: let n = try readBE(1); try need(n + 1); index += n + 1
            case 0xc8: let n = try readBE(2); try need(n + 1); index += n + 1
            case 0xc9: let n = try readBE(4); try need(n + 1); index += n + 1
            case 0xca: try need(4); index += 4
            case 0xcb: try need(8); index += 8
            case 0xcc, 0xd0: try need(1); index += 1
            case 0xcd, 0xd1: try need(2); index += 2
            case 0xce, 0xd2: try need(4); index += 4
            case 0xcf, 0xd3: try need(8); index += 8
            case 0xd4: try need(2); index += 2
            case 0xd5: try need(3); index += 3
            case 0xd6: try need(5); index += 5
            case 0xd7: try need(9); index += 9
            case 0xd8: try need(17); index += 17
            case 0xdc: try container(try readBE(2), 1)
            case 0xdd: try container(try readBE(4), 1)
            case 0xde: try container(try readBE(2), 2)
            case 0xdf: try container(try readBE(4), 2)
            default: throw fail("invalid tag 0x\(String(tag, radix: 16))")
            }
        }
        guard index == bytes.count else { throw fail("\(bytes.count - index) trailing bytes") }
    }
}
