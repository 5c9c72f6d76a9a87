import Testing
@testable import ConfabCodec

@Suite struct ForwardedNodesTests {
    @Test func xForwardedForListsHopsLeftToRight() {
        #expect(ForwardedNodes.xForwardedFor(["203.0.113.7, 10.0.0.2"]) == ["203.0.113.7", "10.0.0.2"])
        #expect(ForwardedNodes.xForwardedFor(["1.1.1.1", " 2.2.2.2 ,3.3.3.3"]) == ["1.1.1.1", "2.2.2.2", "3.3.3.3"],
                "several lines are one list")
        #expect(ForwardedNodes.xForwardedFor(["[2001:db8::1]:443, 192.0.2.1:80, 2001:db8::2"])
                == ["2001:db8::1", "192.0.2.1", "2001:db8::2"], "ports and brackets go")
        #expect(ForwardedNodes.xForwardedFor(["unknown,,x"]) == ["unknown", "", "x"])
    }

    @Test func forwardedTakesTheForParameterOfEachElement() {
        let value = #"for=192.0.2.60;proto=https;by=203.0.113.43, For="[2001:db8:cafe::17]:4711", proto=http"#
        #expect(ForwardedNodes.forwarded([value]) == ["192.0.2.60", "2001:db8:cafe::17", ""])
        #expect(ForwardedNodes.forwarded(["for=unknown", "for=_hidden;proto=http"]) == ["unknown", "_hidden"])
    }

    @Test func quotedCommasAndSemicolonsDoNotSplit() {
        let value = #"for="_a,b;c";proto=http, for="198.51.100.17""#
        #expect(ForwardedNodes.forwarded([value]) == ["_a,b;c", "198.51.100.17"])
        #expect(ForwardedNodes.forwarded([#"for="_a\"b,c""#]) == [#"_a"b,c"#])
    }
}
