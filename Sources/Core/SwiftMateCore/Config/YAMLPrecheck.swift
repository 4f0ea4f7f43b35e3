// A pass over libyaml's events (the libyaml Yams carries) that refuses what would blow up before Yams builds a tree.
#if canImport(CYaml)
import CYaml

/// Reads the YAML's events once, before Yams composes them, and refuses anchors and aliases (Yams would
/// hash an alias used as a key by walking its whole expansion: a few hundred bytes took minutes), nesting
/// past `ConfigNode.maxDepth` and more than `ConfigNode.maxNodes` values. Syntax errors are left to Yams,
/// whose message is made one line by `ConfigNode`.
enum YAMLPrecheck {
    /// nil when nothing is refused; else `(line, column, what)` (1-based).
    static func check(_ text: String) -> (line: Int, column: Int, what: String)? {
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        let event = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: 1)
        defer { parser.deallocate(); event.deallocate() }
        guard yaml_parser_initialize(parser) == 1 else { return nil }
        defer { yaml_parser_delete(parser) }
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer -> (line: Int, column: Int, what: String)? in
            yaml_parser_set_input_string(parser, buffer.baseAddress, buffer.count)
            var depth = 0, nodes = 0
            while true {
                guard yaml_parser_parse(parser, event) == 1 else { return nil } // Yams reports the syntax error
                defer { yaml_event_delete(event) }
                let e = event.pointee
                let at = (line: Int(e.start_mark.line) + 1, column: Int(e.start_mark.column) + 1)
                let anchored: Bool
                switch e.type {
                case YAML_STREAM_END_EVENT: return nil
                case YAML_ALIAS_EVENT: anchored = true
                case YAML_SCALAR_EVENT: anchored = e.data.scalar.anchor != nil; nodes += 1
                case YAML_SEQUENCE_START_EVENT: anchored = e.data.sequence_start.anchor != nil; nodes += 1; depth += 1
                case YAML_MAPPING_START_EVENT: anchored = e.data.mapping_start.anchor != nil; nodes += 1; depth += 1
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT: anchored = false; depth -= 1
                default: anchored = false
                }
                if anchored {
                    return (at.line, at.column, ConfigNode.aliasesRefused)
                }
                if depth > ConfigNode.maxDepth + 1 {
                    return (at.line, at.column, ConfigNode.tooDeep)
                }
                if nodes > ConfigNode.maxNodes {
                    return (at.line, at.column, ConfigNode.tooMany)
                }
            }
        }
    }
}
#else
/// Without access to libyaml's events the checks happen while the composed tree is converted (`ConfigNode`).
enum YAMLPrecheck {
    static func check(_ text: String) -> (line: Int, column: Int, what: String)? { nil }
}
#endif
