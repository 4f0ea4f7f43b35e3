// Answers control-socket requests (`swiftmate -S SOCK show-messages | wait-ready | status | marker | approve | deny | kick`).
import Foundation
import SwiftMateCore

/// Answers control-socket requests from the host's status.
enum ControlRequests {
    /// What the requests act through: the host's status, its frontends, and its upstream to the relay (answers to
    /// viewers waiting to join, removals).
    static func answer(_ request: String, status: HostStatus, frontends: FrontendHub,
                       upstream: @escaping @Sendable (HostUpstream) -> Void) async -> String {
        if request.hasPrefix("marker ") {
            let label = String(request.dropFirst(7))
            if frontends.isEmpty { return "error: this host has no frontends to mark (start it with --record or host.frontends)\n" }
            frontends.publish(.marker(label))
            return "ok\n"
        }
        let words = request.split(separator: " ", maxSplits: 2).map(String.init)
        if let verb = words.first, ["approve", "deny", "kick"].contains(verb) {
            return await answerViewer(verb, words.dropFirst(), status: status, upstream: upstream)
        }
        switch request.trimmingCharacters(in: .whitespaces) {
        case "show-messages":
            return await status.allMessages().map { $0 + "\n" }.joined()
        case "wait-ready":
            await status.waitReady()
            return "ready\n"
        case "status-json":
            return await status.json() + "\n"
        default:
            return "error: unknown request '\(request)'; known: show-messages, wait-ready, status-json, marker LABEL, approve ID, deny ID, kick ID [REASON]\n"
        }
    }

    /// `approve ID` and `deny ID` (a viewer waiting to join), `kick ID [REASON]` (any viewer).
    private static func answerViewer(_ verb: String, _ rest: ArraySlice<String>, status: HostStatus,
                                     upstream: @Sendable (HostUpstream) -> Void) async -> String {
        guard let text = rest.first, let id = UInt32(text.hasPrefix("#") ? String(text.dropFirst()) : text) else {
            return "error: \(verb) takes a viewer's id (a number, as swiftmate status lists them)\n"
        }
        guard let viewer = await status.viewer(id) else {
            return "error: no viewer #\(id) in this session; swiftmate status lists them\n"
        }
        let reason = rest.dropFirst().first ?? ""
        switch verb {
        case "approve":
            guard viewer.waiting else { return "error: viewer #\(id) is not waiting to join (it is in already)\n" }
            upstream(.admit(viewer: id))
            await status.log("let viewer #\(id) in (\(viewer.peer))")
        case "deny":
            guard viewer.waiting else { return "error: viewer #\(id) is not waiting to join; remove it with swiftmate kick \(id)\n" }
            upstream(.kick(viewer: id, reason: reason))
            await status.log("turned viewer #\(id) away (\(viewer.peer))")
        default:
            upstream(.kick(viewer: id, reason: reason))
            await status.log("removed viewer #\(id) (\(viewer.peer))\(reason.isEmpty ? "" : ": " + reason)")
        }
        return "ok\n"
    }
}
