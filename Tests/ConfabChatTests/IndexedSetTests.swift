import Testing
@testable import ConfabChat

@Suite struct IndexedSetTests {
    @Test func insertIsIdempotentAndRemoveSwapsTheLastIn() {
        var set = IndexedSet<Int>()
        for value in [1, 2, 3, 2, 4] { set.insert(value) }
        #expect(set.elements == [1, 2, 3, 4])
        set.remove(2)
        #expect(set.elements == [1, 4, 3])
        set.remove(3)
        set.remove(99)
        #expect(set.elements == [1, 4])
        #expect(set.contains(4) && !set.contains(2))
        set.remove(4)
        set.insert(2)
        #expect(set.elements == [1, 2])
    }

    @Test func replaceKeepsTheSlotOrAppends() {
        var set = IndexedSet<Int>()
        for value in [1, 2, 3] { set.insert(value) }
        set.replace(2, with: 20)
        #expect(set.elements == [1, 20, 3])
        #expect(!set.contains(2) && set.contains(20))
        set.replace(7, with: 8)
        #expect(set.elements == [1, 20, 3, 8])
        set.remove(1)
        #expect(set.elements == [8, 20, 3])
    }
}
