// Reads a `Message` out of a msgpack-c object tree, checking every field's type.
import CMsgPack

struct MessageReader {
    private let fields: UnsafeBufferPointer<msgpack_object>

    init(_ object: msgpack_object) throws {
        guard object.type == MSGPACK_OBJECT_ARRAY, object.via.array.size > 0, let ptr = object.via.array.ptr else {
            throw SwiftMateError(.malformedMessage, "a message must be a non-empty msgpack array")
        }
        fields = UnsafeBufferPointer(start: ptr, count: Int(object.via.array.size))
    }

    private func bad(_ what: String) -> SwiftMateError {
        SwiftMateError(.malformedMessage, "malformed message: \(what)")
    }

    private func field(_ i: Int) throws -> msgpack_object {
        guard i < fields.count else { throw bad("field \(i) missing") }
        return fields[i]
    }

    func uint(_ i: Int, max: UInt64 = .max, name: String? = nil) throws -> UInt64 {
        let f = try field(i)
        if f.type == MSGPACK_OBJECT_POSITIVE_INTEGER, f.via.u64 <= max { return f.via.u64 }
        // The field's name is put into words only for the error (this runs for every field of every message).
        let what = name.map { "field \(i) (\($0))" } ?? "field \(i)"
        guard f.type == MSGPACK_OBJECT_POSITIVE_INTEGER else { throw bad("\(what) must be an unsigned integer") }
        throw bad("\(what) is \(f.via.u64), more than \(max)")
    }

    func int(_ i: Int) throws -> Int64 {
        let f = try field(i)
        if f.type == MSGPACK_OBJECT_POSITIVE_INTEGER {
            guard f.via.u64 <= UInt64(Int64.max) else { throw bad("field \(i) out of range") }
            return Int64(f.via.u64)
        }
        guard f.type == MSGPACK_OBJECT_NEGATIVE_INTEGER else { throw bad("field \(i) must be an integer") }
        return f.via.i64
    }

    func bool(_ i: Int) throws -> Bool {
        let f = try field(i)
        guard f.type == MSGPACK_OBJECT_BOOLEAN else { throw bad("field \(i) must be a boolean") }
        return f.via.boolean
    }

    static func string(_ f: msgpack_object) -> String? {
        guard f.type == MSGPACK_OBJECT_STR else { return nil }
        guard f.via.str.size > 0, let ptr = f.via.str.ptr else { return "" }
        return ptr.withMemoryRebound(to: UInt8.self, capacity: Int(f.via.str.size)) {
            String(decoding: UnsafeBufferPointer(start: $0, count: Int(f.via.str.size)), as: UTF8.self)
        }
    }

    func string(_ i: Int) throws -> String {
        guard let s = Self.string(try field(i)) else { throw bad("field \(i) must be a string") }
        return s
    }

    func binary(_ i: Int) throws -> [UInt8] {
        let f = try field(i)
        guard f.type == MSGPACK_OBJECT_BIN else { throw bad("field \(i) must be binary") }
        guard f.via.bin.size > 0, let ptr = f.via.bin.ptr else { return [] }
        return ptr.withMemoryRebound(to: UInt8.self, capacity: Int(f.via.bin.size)) {
            Array(UnsafeBufferPointer(start: $0, count: Int(f.via.bin.size)))
        }
    }

    func strings(_ i: Int) throws -> [String] {
        let f = try field(i)
        guard f.type == MSGPACK_OBJECT_ARRAY else { throw bad("field \(i) must be an array of strings") }
        guard f.via.array.size > 0, let ptr = f.via.array.ptr else { return [] }
        return try UnsafeBufferPointer(start: ptr, count: Int(f.via.array.size)).map {
            guard let s = Self.string($0) else { throw bad("field \(i) must be an array of strings") }
            return s
        }
    }

    func map(_ i: Int) throws -> [String: String] {
        let f = try field(i)
        guard f.type == MSGPACK_OBJECT_MAP else { throw bad("field \(i) must be a map") }
        guard f.via.map.size > 0, let ptr = f.via.map.ptr else { return [:] }
        var result: [String: String] = [:]
        for kv in UnsafeBufferPointer(start: ptr, count: Int(f.via.map.size)) {
            guard let k = Self.string(kv.key), let v = Self.string(kv.val) else {
                throw bad("field \(i) must map strings to strings")
            }
            result[k] = v
        }
        return result
    }

    func u16(_ i: Int) throws -> UInt16 { UInt16(try uint(i, max: UInt64(UInt16.max))) }
    /// A terminal side: 0 ("no size") up to `WireLimits.maxTerminalSide`.
    func side(_ i: Int, _ name: String) throws -> UInt16 { UInt16(try uint(i, max: UInt64(WireLimits.maxTerminalSide), name: name)) }
    /// A stream offset: up to `WireLimits.maxStreamOffset`.
    func offset(_ i: Int) throws -> UInt64 { try uint(i, max: WireLimits.maxStreamOffset, name: "stream offset") }
    func u32(_ i: Int) throws -> UInt32 { UInt32(try uint(i, max: UInt64(UInt32.max))) }

    /// The message, or nil for an unknown type (from a newer peer).
    func message() throws -> Message? {
        switch try uint(0) {
        case 0:
            guard let role = PeerRole(rawValue: Int(try uint(3, max: 255))) else { throw bad("unknown role") }
            return .hello(Hello(protocolVersion: try u32(1), software: try string(2), role: role,
                                codecs: try strings(4), token: try string(5), cols: try side(6, "cols"), rows: try side(7, "rows"),
                                options: try map(8)))
        case 1:
            return .welcome(Welcome(codec: try string(1), sessionID: try string(2), readOnly: try bool(3),
                                    readWriteToken: try string(4), readOnlyToken: try string(5),
                                    connectionStrings: try strings(6), ticket: fields.count > 7 ? try string(7) : "",
                                    streamOffset: fields.count > 8 ? try offset(8) : 0))
        case 2:
            return .refused(code: RefusalCode(rawValue: Int(try uint(1, max: 1000))) ?? .other, reason: try string(2))
        case 3: return .output(seq: try offset(1), bytes: try binary(2))
        case 4: return .input(viewer: try u32(1), bytes: try binary(2))
        case 5: return .resize(viewer: try u32(1), cols: try side(2, "cols"), rows: try side(3, "rows"))
        case 6:
            return .viewerJoined(ViewerDescription(id: try u32(1), readOnly: try bool(2), peer: try string(3),
                                                   transport: fields.count > 5 ? try string(5) : "", key: fields.count > 6 ? try string(6) : ""),
                                 count: try u32(4))
        case 7: return .viewerLeft(viewer: try u32(1), reason: try string(2), count: try u32(3))
        case 8: return .keepalive(millis: try uint(1))
        case 9:
            let status = try int(2)
            guard status >= Int64(Int32.min), status <= Int64(Int32.max) else { throw bad("exit status out of range") }
            return .goodbye(reason: try string(1), exitStatus: Int32(status))
        case 10: return .notice(try string(1))
        case 11: return .keyframe(Keyframe(seq: try offset(1), cols: try side(2, "cols"), rows: try side(3, "rows"), bytes: try binary(4)))
        case 12: return .keyframeRequest
        case 13: return .ack(offset: try offset(1))
        case 14:
            return .joinRequest(ViewerDescription(id: try u32(1), readOnly: try bool(2), peer: try string(3), transport: try string(4),
                                                  key: try string(5)))
        case 15: return .admit(viewer: try u32(1))
        case 16: return .kick(viewer: try u32(1), reason: try string(2))
        default: return nil
        }
    }
}
