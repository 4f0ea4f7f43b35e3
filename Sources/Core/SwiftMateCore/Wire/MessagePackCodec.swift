// Encoding and decoding of `Message` values with msgpack-c, with the input bounded before msgpack-c sees it.
import CMsgPack

extension Message {
    /// The wire type number of this message (see `Message`).
    public var typeNumber: Int {
        switch self {
        case .hello: 0
        case .welcome: 1
        case .refused: 2
        case .output: 3
        case .input: 4
        case .resize: 5
        case .viewerJoined: 6
        case .viewerLeft: 7
        case .keepalive: 8
        case .goodbye: 9
        case .notice: 10
        case .keyframe: 11
        case .keyframeRequest: 12
        case .ack: 13
        case .joinRequest: 14
        case .admit: 15
        case .kick: 16
        }
    }

    /// Encodes the message as one msgpack array (a frame body, before the codec).
    public func encoded() -> [UInt8] {
        let packer = Packer()
        defer { packer.close() }
        packer.pack(self)
        return packer.bytes()
    }

    /// Decodes a frame body. Returns `nil` for a message type this build does not know (skip it).
    /// Throws `SwiftMateError.malformedMessage` for anything that is not a valid message.
    public static func decode(_ body: [UInt8]) throws -> Message? {
        try MessagePackBounds.check(body)
        return try body.withUnsafeBufferPointer { buffer -> Message? in
            var unpacked = msgpack_unpacked()
            msgpack_unpacked_init(&unpacked)
            defer { msgpack_unpacked_destroy(&unpacked) }
            var offset = 0
            let result = buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                msgpack_unpack_next(&unpacked, $0, buffer.count, &offset)
            }
            guard result == MSGPACK_UNPACK_SUCCESS, offset == buffer.count else {
                throw SwiftMateError(.malformedMessage, "frame body is not one msgpack value")
            }
            return try MessageReader(unpacked.data).message()
        }
    }
}

/// Writes msgpack through msgpack-c's packer into an sbuffer it owns.
private final class Packer {
    private let buffer: UnsafeMutablePointer<msgpack_sbuffer>
    private let packer: UnsafeMutablePointer<msgpack_packer>

    init() {
        buffer = .allocate(capacity: 1)
        msgpack_sbuffer_init(buffer)
        packer = .allocate(capacity: 1)
        swiftmate_packer_init(packer, buffer)
    }

    func close() {
        msgpack_sbuffer_destroy(buffer)
        buffer.deallocate()
        packer.deallocate()
    }

    func bytes() -> [UInt8] {
        guard let data = buffer.pointee.data, buffer.pointee.size > 0 else { return [] }
        return data.withMemoryRebound(to: UInt8.self, capacity: buffer.pointee.size) {
            Array(UnsafeBufferPointer(start: $0, count: buffer.pointee.size))
        }
    }

    func array(_ count: Int) { msgpack_pack_array(packer, count) }
    func uint(_ value: UInt64) { msgpack_pack_uint64(packer, value) }
    func int(_ value: Int64) { msgpack_pack_int64(packer, value) }
    func bool(_ value: Bool) { if value { msgpack_pack_true(packer) } else { msgpack_pack_false(packer) } }
    func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            msgpack_pack_str(packer, utf8.count)
            utf8.withMemoryRebound(to: CChar.self) { _ = msgpack_pack_str_body(packer, $0.baseAddress, $0.count) }
        }
    }
    func binary(_ value: [UInt8]) {
        msgpack_pack_bin(packer, value.count)
        value.withUnsafeBytes { _ = msgpack_pack_bin_body(packer, $0.baseAddress, $0.count) }
    }
    func strings(_ values: [String]) {
        array(values.count)
        values.forEach(string)
    }
    func map(_ values: [String: String]) {
        msgpack_pack_map(packer, values.count)
        for key in values.keys.sorted() {
            string(key)
            string(values[key]!)
        }
    }

    func pack(_ message: Message) {
        let type = UInt64(message.typeNumber)
        switch message {
        case .hello(let h):
            array(9); uint(type); uint(UInt64(h.protocolVersion)); string(h.software); uint(UInt64(h.role.rawValue))
            strings(h.codecs); string(h.token); uint(UInt64(h.cols)); uint(UInt64(h.rows)); map(h.options)
        case .welcome(let w):
            array(9); uint(type); string(w.codec); string(w.sessionID); bool(w.readOnly)
            string(w.readWriteToken); string(w.readOnlyToken); strings(w.connectionStrings); string(w.ticket); uint(w.streamOffset)
        case .refused(let code, let reason):
            array(3); uint(type); uint(UInt64(code.rawValue)); string(reason)
        case .output(let seq, let bytes):
            array(3); uint(type); uint(seq); binary(bytes)
        case .input(let viewer, let bytes):
            array(3); uint(type); uint(UInt64(viewer)); binary(bytes)
        case .resize(let viewer, let cols, let rows):
            array(4); uint(type); uint(UInt64(viewer)); uint(UInt64(cols)); uint(UInt64(rows))
        case .viewerJoined(let v, let count):
            array(7); uint(type); uint(UInt64(v.id)); bool(v.readOnly); string(v.peer); uint(UInt64(count)); string(v.transport); string(v.key)
        case .joinRequest(let v):
            array(6); uint(type); uint(UInt64(v.id)); bool(v.readOnly); string(v.peer); string(v.transport); string(v.key)
        case .admit(let viewer):
            array(2); uint(type); uint(UInt64(viewer))
        case .kick(let viewer, let reason):
            array(3); uint(type); uint(UInt64(viewer)); string(reason)
        case .viewerLeft(let viewer, let reason, let count):
            array(4); uint(type); uint(UInt64(viewer)); string(reason); uint(UInt64(count))
        case .keepalive(let millis):
            array(2); uint(type); uint(millis)
        case .goodbye(let reason, let status):
            array(3); uint(type); string(reason); int(Int64(status))
        case .notice(let text):
            array(2); uint(type); string(text)
        case .keyframe(let k):
            array(5); uint(type); uint(k.seq); uint(UInt64(k.cols)); uint(UInt64(k.rows)); binary(k.bytes)
        case .keyframeRequest:
            array(1); uint(type)
        case .ack(let offset):
            array(2); uint(type); uint(offset)
        }
    }
}
