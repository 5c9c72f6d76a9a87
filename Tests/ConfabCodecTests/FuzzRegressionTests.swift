import Foundation
import Testing

/// Every file of Tests/fuzz/corpus/http and /frames (seeds and inputs that once crashed a fuzz
/// target) replayed through the same checks as the libFuzzer targets (Fuzz/*.swift), so a
/// crash found by `Scripts/fuzz` stays a test once its input is added to the corpus.
@Suite struct FuzzRegressionTests {
    @Test func corpusIsThere() {
        #expect(FuzzCorpus.files("http").count >= 5)
        #expect(FuzzCorpus.files("frames").count >= 5)
    }

    @Test(arguments: FuzzCorpus.files("http"))
    func http(_ file: String) throws {
        let bytes = try FuzzCorpus.bytes("http", file)
        try bytes.withUnsafeBytes { try FuzzHTTP.run($0) }
    }

    @Test(arguments: FuzzCorpus.files("frames"))
    func frames(_ file: String) throws {
        let bytes = try FuzzCorpus.bytes("frames", file)
        try bytes.withUnsafeBytes { try FuzzFrames.run($0) }
    }
}

/// Tests/fuzz/corpus, found from this source file so tests run from any directory.
enum FuzzCorpus {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // ConfabCodecTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("fuzz/corpus")

    /// The corpus files of one target, by name, sorted (empty when the folder is missing,
    /// which `corpusIsThere` catches).
    static func files(_ target: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(target).path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }

    static func bytes(_ target: String, _ file: String) throws -> [UInt8] {
        Array(try Data(contentsOf: root.appendingPathComponent(target).appendingPathComponent(file)))
    }
}
