// The size policy: smallest (default), host, largest, fixed; read-only viewers never count (the relay sends none).
import Testing
import SwiftMateCore
import SwiftMateTestSupport

@Suite struct SizePolicyTests {
    @Test func policiesParseFromWhatPeopleWrite() {
        #expect(SizePolicy("smallest") == .smallest)
        #expect(SizePolicy(" Host ") == .host)
        #expect(SizePolicy("largest") == .largest)
        #expect(SizePolicy("fixed 120x40") == .fixed(cols: 120, rows: 40))
        #expect(SizePolicy("100x30") == .fixed(cols: 100, rows: 30))
        #expect(SizePolicy("fixed 0x10") == nil)
        #expect(SizePolicy("biggest") == nil)
    }

    @Test func smallestTakesTheMinimumInEachDirectionAndForgetsViewersThatLeave() {
        var s = SessionSizer(policy: .smallest, hostSize: (120, 40), headlessSize: (80, 24))
        #expect(s.size == (120, 40))
        s.viewerResized(1, cols: 100, rows: 50)
        #expect(s.size == (100, 40))
        s.viewerResized(2, cols: 150, rows: 30)
        #expect(s.size == (100, 30))
        s.viewerLeft(1)
        #expect(s.size == (120, 30))
        s.hostResized(cols: 90, rows: 45)
        #expect(s.size == (90, 30))
    }

    @Test func largestHostAndFixed() {
        var largest = SessionSizer(policy: .largest, hostSize: (80, 24), headlessSize: (80, 24))
        largest.viewerResized(1, cols: 100, rows: 20)
        #expect(largest.size == (100, 24))
        var host = SessionSizer(policy: .host, hostSize: (80, 24), headlessSize: (80, 24))
        host.viewerResized(1, cols: 200, rows: 60)
        #expect(host.size == (80, 24))
        var fixed = SessionSizer(policy: .fixed(cols: 132, rows: 43), hostSize: (80, 24), headlessSize: (80, 24))
        fixed.viewerResized(1, cols: 20, rows: 10)
        fixed.hostResized(cols: 50, rows: 10)
        #expect(fixed.size == (132, 43))
    }

    @Test func aHeadlessHostTakesNoPart() {
        var s = SessionSizer(policy: .smallest, hostSize: nil, headlessSize: (80, 24))
        #expect(s.size == (80, 24))
        s.viewerResized(3, cols: 200, rows: 60)
        #expect(s.size == (200, 60))
        s.viewerLeft(3)
        #expect(s.size == (80, 24))
        var h = SessionSizer(policy: .host, hostSize: nil, headlessSize: (80, 24))
        h.viewerResized(1, cols: 90, rows: 20)
        h.viewerResized(2, cols: 100, rows: 30)
        #expect(h.size == (100, 30)) // the last read-write viewer that set one
    }

    @Test func theConfigNamesThePolicyAndRejectsUnknownOnes() throws {
        let c = try SwiftMateConfig.parse(yaml: "session: {size_policy: fixed 100x30}", file: "t.yaml", registry: PluginRegistry())
        #expect(c.sizePolicy == .fixed(cols: 100, rows: 30))
        #expect(try SwiftMateConfig.parse(yaml: "host: {}", file: "t.yaml", registry: PluginRegistry()).sizePolicy == .smallest)
        #expect {
            _ = try SwiftMateConfig.parse(yaml: "session: {size_policy: biggest}", file: "t.yaml", registry: PluginRegistry())
        } throws: { error in
            "\(error)".contains("session.size_policy") && "\(error)".contains("smallest, host, largest or fixed COLSxROWS")
        }
    }
}

@Test func aViewerCannotAskForAHugeSession() {
    var s = SessionSizer(policy: .largest, hostSize: nil, headlessSize: (80, 24))
    s.viewerResized(1, cols: 60000, rows: 60000)
    #expect(s.size == (SessionSizer.maxSide, SessionSizer.maxSide))
}

@Test func aRelayReportingEndlessViewersCannotGrowTheHost() async {
    // A hostile relay may invent viewer ids without end; the host keeps at most the largest relay's worth.
    var sizer = SessionSizer(policy: .smallest, hostSize: nil, headlessSize: (80, 24))
    for id in 1...UInt32(HostStatus.maxViewers) { sizer.viewerResized(id, cols: 100, rows: 50) }
    sizer.viewerResized(UInt32(HostStatus.maxViewers) + 1, cols: 10, rows: 5)
    #expect(sizer.size == (100, 50), "a viewer past the cap is not counted")
    sizer.viewerResized(7, cols: 90, rows: 40)
    #expect(sizer.size == (90, 40), "known viewers still resize")

    let status = HostStatus()
    for id in 1...UInt32(HostStatus.maxViewers + 10) { await status.viewerJoined(HostStatus.ViewerInfo(id: id, readOnly: false, peer: "x")) }
    #expect(await status.current().viewers.count == HostStatus.maxViewers)
}
