import Foundation
import Testing

/// Every file of Tests/fuzz/corpus/json (seeds and inputs that once crashed the fuzz target)
/// replayed through the same checks as the libFuzzer target (Fuzz/FuzzJSON.swift), so
/// a crash found by `Scripts/fuzz` stays a test once its input is added to the corpus.
@Suite struct FuzzRegressionTests {
    @Test func corpusIsThere() {
        #expect(FuzzCorpus.files("json").count >= 5)
    }

    @Test(arguments: FuzzCorpus.files("json"))
    func json(_ file: String) throws {
        let bytes = try FuzzCorpus.bytes("json", file)
        try bytes.withUnsafeBytes { try FuzzJSON.run($0) }
    }
}

/// Tests/fuzz/corpus, found from this source file so tests run from any directory.
enum FuzzCorpus {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // ConfabChatTests
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
