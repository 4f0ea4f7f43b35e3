// The failure the contract suites report: which plugin, which rule, what happened.

/// A plugin broke its protocol's contract.
public struct ContractViolation: Error, CustomStringConvertible, Sendable {
    /// The plugin's name.
    public let plugin: String
    /// The rule, in words.
    public let rule: String
    /// What was seen.
    public let detail: String

    /// "PLUGIN: RULE (DETAIL)".
    public var description: String { "\(plugin): \(rule) (\(detail))" }
}

func require(_ condition: Bool, _ plugin: String, _ rule: String, _ detail: @autoclosure () -> String = "") throws {
    if !condition { throw ContractViolation(plugin: plugin, rule: rule, detail: detail()) }
}
