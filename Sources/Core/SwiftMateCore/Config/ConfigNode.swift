// A parsed YAML value that knows its key path, so every error names where it is and what is allowed.
import Yams

/// A YAML value with its key path (`host.codecs[1]`), read through checked accessors.
public struct ConfigNode: Sendable {
    /// The shape of the value.
    public indirect enum Value: Sendable {
        /// A scalar, as written (quotes removed).
        case scalar(String)
        /// A sequence.
        case list([ConfigNode])
        /// A mapping, in file order.
        case map([(key: String, value: ConfigNode)])
        /// `null`, `~`, or an empty value.
        case null
    }

    /// Where the value is, as a dotted key path (`relay.listen[0]`); empty for the root.
    public let path: String
    /// The value.
    public let value: Value
    /// The file it came from, for messages.
    public let file: String

    /// Makes a node.
    public init(path: String, value: Value, file: String) {
        self.path = path
        self.value = value
        self.file = file
    }

    /// An empty mapping (the configuration when there is no file).
    public static func empty(file: String = "(defaults)") -> ConfigNode { ConfigNode(path: "", value: .map([]), file: file) }

    /// Parses YAML text.
    public static func parse(yaml text: String, file: String) throws -> ConfigNode {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw SwiftMateError(.badConfig, "\(file): not valid YAML: \(error)")
        } catch {
            throw SwiftMateError(.badConfig, "\(file): not valid YAML: \(error)")
        }
        guard let node else { return .empty(file: file) }
        return convert(node, path: "", file: file)
    }

    private static func convert(_ node: Node, path: String, file: String) -> ConfigNode {
        switch node {
        case .scalar(let s):
            if s.style == .plain && ["", "~", "null", "Null", "NULL"].contains(s.string) {
                return ConfigNode(path: path, value: .null, file: file)
            }
            return ConfigNode(path: path, value: .scalar(s.string), file: file)
        case .sequence(let seq):
            return ConfigNode(path: path, value: .list(seq.enumerated().map { convert($0.element, path: "\(path)[\($0.offset)]", file: file) }), file: file)
        case .mapping(let map):
            let entries = map.map { pair -> (key: String, value: ConfigNode) in
                let key = pair.key.string ?? "\(pair.key)"
                return (key, convert(pair.value, path: path.isEmpty ? key : "\(path).\(key)", file: file))
            }
            return ConfigNode(path: path, value: .map(entries), file: file)
        case .alias(let alias):
            return ConfigNode(path: path, value: .scalar(String(describing: alias)), file: file)
        }
    }

    /// An error about this node: `FILE: PATH: what`.
    public func error(_ what: String) -> SwiftMateError {
        SwiftMateError(.badConfig, "\(file): \(path.isEmpty ? "top level" : path): \(what)")
    }

    private var shown: String {
        switch value {
        case .scalar(let s): "'\(s)'"
        case .list: "a list"
        case .map: "a mapping"
        case .null: "nothing"
        }
    }

    /// The entries of a mapping (a `null` node counts as empty). Throws if it is not a mapping.
    public func entries() throws -> [(key: String, value: ConfigNode)] {
        switch value {
        case .map(let e): return e
        case .null: return []
        default: throw error("expected a mapping, found \(shown)")
        }
    }

    /// Throws if the mapping has a key outside `allowed`, naming the allowed ones.
    public func checkKeys(_ allowed: [String]) throws {
        for (key, value) in try entries() where !allowed.contains(key) {
            throw value.error("unknown key '\(key)'; allowed here: \(allowed.sorted().joined(separator: ", "))")
        }
    }

    /// The child at `key`, or nil when absent or null.
    public subscript(key: String) -> ConfigNode? {
        guard case .map(let e) = value, let child = e.last(where: { $0.key == key })?.value else { return nil }
        if case .null = child.value { return nil }
        return child
    }

    /// The elements of a list; a single scalar counts as a one-element list.
    public func list() throws -> [ConfigNode] {
        switch value {
        case .list(let l): return l
        case .scalar: return [self]
        case .null: return []
        case .map: throw error("expected a list, found \(shown)")
        }
    }

    /// The scalar as text.
    public func string() throws -> String {
        guard case .scalar(let s) = value else { throw error("expected a text value, found \(shown)") }
        return s
    }

    /// The scalar as one of `allowed`.
    public func choice(_ allowed: [String]) throws -> String {
        let s = try string()
        guard allowed.contains(s) else {
            throw error("'\(s)' is not allowed; allowed: \(allowed.joined(separator: ", "))")
        }
        return s
    }

    /// The scalar as an integer within `range`.
    public func int(in range: ClosedRange<Int>) throws -> Int {
        let s = try string()
        guard let n = Int(s), range.contains(n) else {
            throw error("'\(s)' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    /// The scalar as a boolean (`true`/`false`, `yes`/`no`, `on`/`off`).
    public func bool() throws -> Bool {
        let s = try string()
        switch s.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("'\(s)' is not a boolean; allowed: true, false")
        }
    }

    /// The scalar as `COLSxROWS` (each 1-1000).
    public func size() throws -> (cols: UInt16, rows: UInt16) {
        let s = try string()
        let parts = s.lowercased().split(separator: "x")
        guard parts.count == 2, let c = UInt16(parts[0]), let r = UInt16(parts[1]), (1...1000).contains(c), (1...1000).contains(r) else {
            throw error("'\(s)' is not a size; expected COLSxROWS such as 80x24")
        }
        return (c, r)
    }
}
