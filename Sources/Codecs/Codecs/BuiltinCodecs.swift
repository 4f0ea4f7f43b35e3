// Registers the built-in codecs under their YAML names.
import SwiftMateCore

extension PluginRegistry {
    /// Adds `zlib` and `lz4` (and keeps `none`).
    public mutating func registerBuiltinCodecs() {
        register(codec: "zlib") { try ZlibCodec(options: $0) }
        register(codec: "lz4") { try LZ4Codec(options: $0) }
    }
}
