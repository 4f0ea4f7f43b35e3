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

    /// The deepest nesting of mappings and lists a configuration may have.
    public static let maxDepth = 16
    /// The most values (scalars, lists, mappings) a configuration may have.
    public static let maxNodes = 20_000

    /// What is said when a file passes one of those bounds (by `YAMLPrecheck` first, or while converting).
    static let aliasesRefused = "anchors and aliases (&name, *name) are not allowed in SwiftMate configuration; write the value out in full"
    static let tooDeep = "nested more than \(maxDepth) levels deep; a SwiftMate configuration is far shallower"
    static let tooMany = "more than \(maxNodes) values; a SwiftMate configuration is far smaller"

    /// Parses YAML text. Anchors and aliases are refused (a few hundred bytes of nested aliases would
    /// otherwise expand to gigabytes), as are duplicate keys, nesting past `maxDepth` and more than
    /// `maxNodes` values; every error is one line: `FILE:LINE:COLUMN: [key path: ]what, and what to do`.
    public static func parse(yaml text: String, file: String) throws -> ConfigNode {
        if let refused = YAMLPrecheck.check(text) {
            throw SwiftMateError(.badConfig, "\(file):\(refused.line):\(refused.column): \(refused.what)")
        }
        let node: Node?
        // The parser keeps the anchors alive (nodes hold them weakly) until the tree has been checked.
        let parser: Parser
        do {
            parser = try Parser(yaml: text)
            node = try parser.singleRoot()
        } catch let error as YamlError {
            throw SwiftMateError(.badConfig, oneLine(error, file: file))
        } catch {
            throw SwiftMateError(.badConfig, "\(file): not valid YAML: \(error)")
        }
        guard let node else { return .empty(file: file) }
        var budget = maxNodes
        let converted = try withExtendedLifetime(parser) { try convert(node, path: "", depth: 0, budget: &budget, file: file) }
        return converted
    }

    /// `FILE:LINE:COLUMN: what` for a Yams error (whose own text spans several lines with a snippet).
    private static func oneLine(_ error: YamlError, file: String) -> String {
        func at(_ mark: Mark) -> String { "\(file):\(mark.line):\(mark.column)" }
        func context(_ c: YamlError.Context?) -> String {
            guard let c, !c.text.isEmpty else { return "" }
            return " (\(c.text) at line \(c.mark.line), column \(c.mark.column))"
        }
        let fix = "; fix the YAML there (`swiftmate config check FILE` checks it)"
        switch error {
        case .scanner(let c, let problem, let mark, _), .parser(let c, let problem, let mark, _), .composer(let c, let problem, let mark, _):
            if problem.contains("Maximum nesting level") {
                return "\(at(mark)): \(tooDeep)"
            }
            return "\(at(mark)): not valid YAML: \(problem)\(context(c))\(fix)"
        case .reader(let problem, let offset, _, _):
            return "\(file): not valid YAML text: \(problem)\(offset.map { " at character \($0)" } ?? "")\(fix)"
        case .duplicatedKeysInMapping(let duplicates, let c):
            let keys = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
            return "\(at(c.mark)): the key \(keys) appears more than once in one mapping; keep one of them"
        default:
            return "\(file): not valid YAML: \(String(describing: error).split(separator: "\n").first ?? "")\(fix)"
        }
    }

    private static func convert(_ node: Node, path: String, depth: Int, budget: inout Int, file: String) throws -> ConfigNode {
        func fail(_ what: String) -> SwiftMateError {
            let place = node.mark.map { "\(file):\($0.line):\($0.column)" } ?? file
            return SwiftMateError(.badConfig, "\(place): \(path.isEmpty ? "" : "\(path): ")\(what)")
        }
        // Checked before looking inside: an alias is the anchored node itself, so nothing is expanded first.
        if node.anchor != nil {
            throw fail(aliasesRefused)
        }
        budget -= 1
        guard budget >= 0 else { throw fail(tooMany) }
        guard depth <= maxDepth else { throw fail(tooDeep) }
        switch node {
        case .scalar(let s):
            if s.style == .plain && ["", "~", "null", "Null", "NULL"].contains(s.string) {
                return ConfigNode(path: path, value: .null, file: file)
            }
            return ConfigNode(path: path, value: .scalar(s.string), file: file)
        case .sequence(let seq):
            var items: [ConfigNode] = []
            for (i, element) in seq.enumerated() {
                items.append(try convert(element, path: "\(path)[\(i)]", depth: depth + 1, budget: &budget, file: file))
            }
            return ConfigNode(path: path, value: .list(items), file: file)
        case .mapping(let map):
            var entries: [(key: String, value: ConfigNode)] = []
            for pair in map {
                guard case .scalar(let k) = pair.key, pair.key.anchor == nil else {
                    throw fail("a key must be plain text, not a list, a mapping or an alias")
                }
                let key = k.string
                entries.append((key, try convert(pair.value, path: path.isEmpty ? key : "\(path).\(key)", depth: depth + 1, budget: &budget, file: file)))
            }
            return ConfigNode(path: path, value: .map(entries), file: file)
        case .alias:
            throw fail(aliasesRefused)
        }
    }

    /// `text` on one line: line breaks and other control characters as escapes (`\n`, `\u{1B}`).
    public static func oneLine(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: \.isTerminalControl) else { return text }
        var out = ""
        for u in text.unicodeScalars {
            switch u {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.isTerminalControl { out += "\\u{\(String(u.value, radix: 16, uppercase: true))}" } else { out.unicodeScalars.append(u) }
            }
        }
        return out
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
