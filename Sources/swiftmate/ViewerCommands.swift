// `approve`, `deny`, `kick`: answer a viewer waiting to join (`--approve`), or remove one, through the control socket.
import ArgumentParser
import Foundation
import SwiftMateCore
import SwiftMateSystem

/// Sends `verb ID [REASON]` to the host `flag` names.
private func answerViewer(_ verb: String, id: UInt32, reason: String?, _ flag: SocketFlag) throws {
    try tellHost(verb + " \(id)" + (reason.map { " " + $0 } ?? ""), flag)
}

/// A viewer and what it is told (`deny`, `kick`).
struct ViewerAndReason: ParsableArguments {
    @OptionGroup var flag: SocketFlag
    @Argument(help: "The viewer's id, as swiftmate status lists it.")
    var id: UInt32
    @Argument(help: "What the viewer is told.")
    var reason: String?

    func validate() throws {
        guard let reason else { return }
        guard !reason.contains("\n"), reason.utf8.count <= 500 else { throw ValidationError("a reason is one line of at most 500 bytes") }
    }
}

struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "approve",
        abstract: "Let a viewer that waits to join in (a host started with --approve; swiftmate status lists who waits).")
    @OptionGroup var flag: SocketFlag
    @Argument(help: "The viewer's id, as swiftmate status lists it.")
    var id: UInt32
    func run() async throws { try answerViewer("approve", id: id, reason: nil, flag) }
}

struct DenyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deny",
        abstract: "Turn a viewer that waits to join away; it sees no byte of the session and is told why.")
    @OptionGroup var viewer: ViewerAndReason
    func run() async throws { try answerViewer("deny", id: viewer.id, reason: viewer.reason, viewer.flag) }
}

struct KickCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kick",
        abstract: "Remove a viewer from the session; it is told it was removed (and why, when a reason is given).")
    @OptionGroup var viewer: ViewerAndReason
    func run() async throws { try answerViewer("kick", id: viewer.id, reason: viewer.reason, viewer.flag) }
}
