// Answers control-socket requests (`swiftmate -S SOCK show-messages | wait-ready | status | marker`).
import Foundation
import SwiftMateCore

/// Answers control-socket requests from the host's status.
enum ControlRequests {
    static func answer(_ request: String, status: HostStatus, frontends: FrontendHub) async -> String {
        if request.hasPrefix("marker ") {
            let label = String(request.dropFirst(7))
            if frontends.isEmpty { return "error: this host has no frontends to mark (start it with --record or host.frontends)\n" }
            frontends.publish(.marker(label))
            return "ok\n"
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
            return "error: unknown request '\(request)'; known: show-messages, wait-ready, status-json, marker LABEL\n"
        }
    }
}
